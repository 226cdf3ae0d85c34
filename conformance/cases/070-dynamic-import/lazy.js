let loaded = 0;
loaded++;
export const value = "loaded lazily";
export const loads = () => loaded;
