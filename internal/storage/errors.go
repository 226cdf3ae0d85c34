package storage

import "errors"

// Error is an error that user code should see: the JavaScript side throws it
// as a new Type(Message), which is what workerd throws in the same situation.
// Errors of any other type are the runtime's own failures (I/O, misuse of
// this package) and should break the object rather than be handed to user
// code as ordinary exceptions.
type Error struct {
	// Type is the JavaScript error constructor: "Error", "TypeError" or
	// "RangeError".
	Type string
	// Code is SQLite's primary result code (for example 23 for
	// SQLITE_AUTH), or 0 when the error did not come from SQLite.
	Code int
	// Message is the error message, with SQLite's code name appended the
	// way workerd does it ("not authorized: SQLITE_AUTH").
	Message string
}

func (e *Error) Error() string { return e.Message }

// JSName is the JavaScript error class, for code that turns Go errors into
// JavaScript ones by this method.
func (e *Error) JSName() string { return e.Type }

// MaxBatchKeys is the most keys one GetMany, PutMany or DeleteMany call may
// name, as in Cloudflare's storage API.
const MaxBatchKeys = 128

var (
	// ErrClosed is returned by every method of a closed Store.
	ErrClosed = errors.New("storage: store is closed")
	// ErrReadOnly is returned by writes to a Store opened read-only.
	ErrReadOnly = errors.New("storage: store is read-only")
	// ErrNotInBatch is returned by Commit and Rollback without Begin.
	ErrNotInBatch = errors.New("storage: Commit or Rollback without Begin")
	// ErrInBatch is returned by Begin while a batch is already open.
	ErrInBatch = errors.New("storage: Begin while a batch is open")
	// ErrTxnOrder is returned when transactions are not closed innermost
	// first.
	ErrTxnOrder = errors.New("storage: a nested transaction is still open")
	// ErrTxnDone is returned by Commit or Rollback of a finished Txn.
	ErrTxnDone = errors.New("storage: transaction already finished")
)

func tooManyKeys() error {
	return &Error{Type: "RangeError", Message: "Maximum number of keys is 128."}
}
