package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/davenport-dav/davenport/store"
)

// ListChangesSince lists the members changed after modseq, live objects and
// tombstones together, ordered by modseq (RFC 6578 §3.8).
//
// The collection's modseq M and the log are read in one snapshot (a
// read-only REPEATABLE READ transaction), so the answer is the state at M:
// every member stamped up to M is there and none after it. Read in two
// snapshots, a member re-stamped between the reads was missing from the
// answer, and an initial sync (modseq 0) left an existing member out.
func (s *Store) ListChangesSince(ctx context.Context, collectionID int64, modseq int64, limit int, withBody bool) (*store.Changes, error) {
	var res *store.Changes
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		var current int64
		const cur = `SELECT modseq FROM collections WHERE id = $1`
		if err := tx.QueryRow(ctx, cur, collectionID).Scan(&current); err != nil {
			return notFound(err)
		}
		var fetch *int64 // NULL: no LIMIT
		if limit > 0 {
			n := int64(limit) + 1 // one more tells whether the log was cut
			fetch = &n
		}
		rows, _ := tx.Query(ctx, changesQuery(withBody), collectionID, modseq, current, fetch)
		changes, err := collectChanges(rows, limit+1)
		if err != nil {
			return err
		}
		res = &store.Changes{Changes: changes, ModSeq: current}
		if limit > 0 && len(changes) > limit {
			res.Changes = changes[:limit]
			res.ModSeq = changes[limit-1].ModSeq
			res.Truncated = true
		}
		return nil
	})
	if err != nil {
		return nil, errorf("store: list changes of collection %d: %w", collectionID, err)
	}
	return res, nil
}

// changesQuery is the query of ListChangesSince: $1 the collection, $2 the
// modseq to start after, $3 the collection's modseq to stop at, $4 the
// limit (NULL for none).
func changesQuery(withBody bool) string {
	// Each branch is limited on its own (collection_id, modseq) index
	// before the merge, so a page costs its own size: with the limit only
	// outside the UNION, a generic plan sorted the whole rest of the log
	// for every page, and a paged full sync went quadratic.
	return `
		(SELECT false, ` + objectColumns + `, ` + bodyColumn(withBody) + `
		FROM objects
		WHERE collection_id = $1 AND modseq > $2 AND modseq <= $3
		ORDER BY modseq
		LIMIT $4)
		UNION ALL
		(SELECT true, 0, collection_id, name, '', '', '', '', 0, modseq,
			NULL, NULL, '', deleted_at, deleted_at, false, NULL
		FROM tombstones
		WHERE collection_id = $1 AND modseq > $2 AND modseq <= $3
		ORDER BY modseq
		LIMIT $4)
		ORDER BY modseq
		LIMIT $4`
}

// PruneTombstones deletes the tombstones of deletions before the given time
// and raises each affected collection's pruned_modseq to the highest modseq
// removed, so that older sync tokens are refused (RFC 6578 §3.7,
// DAV:valid-sync-token).
func (s *Store) PruneTombstones(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// Lock the collections in id order first, like every writer of
		// two collections does.
		const lock = `
			SELECT id FROM collections
			WHERE id IN (SELECT collection_id FROM tombstones WHERE deleted_at < $1)
			ORDER BY id
			FOR UPDATE`
		if _, err := tx.Exec(ctx, lock, before); err != nil {
			return err
		}
		const prune = `
			WITH pruned AS (
				DELETE FROM tombstones WHERE deleted_at < $1
				RETURNING collection_id, modseq
			), per AS (
				SELECT collection_id, max(modseq) AS modseq, count(*) AS n
				FROM pruned
				GROUP BY collection_id
			), raised AS (
				UPDATE collections c SET pruned_modseq = per.modseq
				FROM per
				WHERE c.id = per.collection_id AND c.pruned_modseq < per.modseq
			)
			SELECT COALESCE(sum(n), 0)::bigint FROM per`
		return tx.QueryRow(ctx, prune, before).Scan(&n)
	})
	if err != nil {
		return 0, errorf("store: prune tombstones: %w", err)
	}
	return n, nil
}

// collectChanges reads the rows of changesQuery: the objects are allocated
// a batch at a time (of at most size) and scanned through one scanner, as
// a full sync reads every member.
func collectChanges(rows pgx.Rows, size int) ([]store.Change, error) {
	defer rows.Close()
	var (
		sc      objectScanner
		deleted bool
		objs    []store.Object
		changes []store.Change
	)
	batch := 16
	if size > 1 {
		batch = min(size, 512)
		changes = make([]store.Change, 0, batch)
	}
	for rows.Next() {
		if len(objs) == cap(objs) {
			objs = make([]store.Object, 0, batch)
		}
		objs = append(objs, store.Object{})
		o := &objs[len(objs)-1]
		if err := sc.scan(rows, o, &deleted); err != nil {
			return nil, err
		}
		c := store.Change{Name: o.Name, ModSeq: o.ModSeq, Deleted: deleted}
		if deleted {
			objs = objs[:len(objs)-1]
		} else {
			c.Object = o
		}
		changes = append(changes, c)
	}
	return changes, rows.Err()
}
