package storage

// BeginSync opens the transaction of a ctx.storage.transactionSync() whose
// callback cannot run inside a Go call (it is JavaScript, run by the caller
// between BeginSync and the Txn's Commit or Rollback). The Txn behaves as
// TransactionSync: inside a batch its writes become durable with the batch;
// outside any batch or transaction, when Commit returns. Calls nest, and
// must be finished innermost first.
func (s *Store) BeginSync() (*Txn, error) {
	if err := s.beforeWrite(); err != nil {
		return nil, err
	}
	d, err := s.pushSavepoint()
	if err != nil {
		return nil, s.writeFailed(err)
	}
	return &Txn{s: s, depth: d}, nil
}

// Uncommitted reports whether some write is not durable yet: one made in
// the open batch, or in a transaction that is still open. The runtime's
// output gate holds messages back while it is true.
func (s *Store) Uncommitted() bool { return s.txOpen || s.depth > 0 }
