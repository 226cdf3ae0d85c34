// Package storage keeps each Durable Object's data in its own SQLite database.
//
// # Why one database per object
//
// A Durable Object is a single-threaded owner of its state; Cloudflare's
// SQLite-backed objects (and workerd) give every object, and every facet of an
// object, a private SQLite database. Doing the same here keeps the semantics
// simple and exact: ctx.storage.sql sees a whole database of its own, the KV
// APIs live in the hidden table _cf_KV of that database (the same layout
// workerd uses, so KV writes and SQL writes share one transaction), and the
// alarm lives in _cf_METADATA next to them. Objects never contend with each
// other, deleting an object is deleting its files, and an operator can copy or
// inspect one object without touching the others.
//
// # Durability
//
// Databases are opened in WAL mode with synchronous=FULL: a commit returns
// only after the WAL has been fsynced, so every acknowledged write survives a
// crash of the process (kill -9) and of the machine. With Options.DeferSync
// (what the runtime uses for Durable Objects) a batch's COMMIT returns once
// its frames are in the WAL, which a process crash cannot lose, and Syncer
// gives the fsync to run on another goroutine; the runtime tells nobody of
// the batch's writes until that fsync is done, so an acknowledged write
// still survives a machine crash. By default a Store also
// holds SQLite's EXCLUSIVE locking mode for as long as it is open: no other
// connection, in this process or another, can read or write the database
// meanwhile. That is the single-writer guarantee a Durable Object needs (two
// runtimes can never both own one object), and it makes every read cheaper
// because SQLite need not take shared-memory locks per statement. Set
// Options.Shared to let other processes read while the object is open.
//
// # Transactions
//
// Writes made outside Begin/Commit commit on their own (autocommit), each
// durable when the call returns. The runtime brackets every event-loop turn of
// an object with Begin and Commit (or Rollback): the first write of the turn
// opens one SQLite transaction, every later write of the turn joins it, and
// Commit makes all of them durable at once. That is how workerd coalesces the
// writes made between two await points into one atomic write, and it is also
// what makes many Put calls per turn cheap (one fsync per turn, not per
// call). TransactionSync implements ctx.storage.transactionSync with
// savepoints, and BeginTxn implements the asynchronous
// ctx.storage.transaction(), which may span several turns.
//
// # Ownership
//
// A Store is not safe for concurrent use. It must be used by one goroutine at
// a time: the object's isolate loop. The only exception is Interrupt, which
// may be called from any goroutine to abort a running query. Cursors belong to
// their Store and follow the same rule.
//
// # Implementation notes
//
// The package drives SQLite (modernc.org/sqlite, no cgo) through its C API
// directly instead of database/sql: that is what lets it install an
// authorizer, cache prepared statements, read statement status counters and
// keep a point read at a few microseconds without allocations beyond the
// returned value.
package storage
