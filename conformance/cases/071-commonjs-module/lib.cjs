exports.name = "commonjs library";
exports.sum = function (a, b) {
  return a + b;
};
