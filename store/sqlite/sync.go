package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/davenport-dav/davenport/store"
)

// collectionModSeqSQL reads a collection's modseq (prepared at Open).
const collectionModSeqSQL = `SELECT modseq FROM collections WHERE id = $1`

// changesSQL is ListChangesSince's query (prepared at Open, once without and
// once with the body): live objects and tombstones above a modseq, in modseq
// order, at most $3 rows (-1 for all).
func changesSQL(withBody bool) string {
	body := `NULL`
	if withBody {
		body = `body`
	}
	return `
	SELECT 0, ` + objectColumns + `, ` + body + `
	FROM objects WHERE collection_id = $1 AND modseq > $2
	UNION ALL
	SELECT 1, 0, collection_id, name, '', '', '', '', 0, modseq, NULL, NULL, '', 0, 0, 0, NULL
	FROM tombstones WHERE collection_id = $1 AND modseq > $2
	ORDER BY 10
	LIMIT $3`
}

// ListChangesSince lists the live objects and tombstones of the collection
// with a modseq above modseq, ordered by modseq, at most limit of them when
// limit > 0 (RFC 6578 §3.6 lets the server truncate and hand out a token to
// continue from). Everything is read from one snapshot.
func (s *Store) ListChangesSince(ctx context.Context, collectionID int64, modseq int64, limit int, withBody bool) (*store.Changes, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var ch store.Changes
	err := s.read(ctx, "list changes", func(tx *sql.Tx) error {
		var current int64
		err := tx.StmtContext(ctx, s.st.collectionModSeq).QueryRowContext(ctx, collectionID).Scan(&current)
		if err != nil {
			return err
		}
		// One more row than the limit tells whether the list was cut off.
		fetch := -1
		if limit > 0 {
			fetch = limit + 1
		}
		rows, err := tx.StmtContext(ctx, s.st.changes[bodyIndex(withBody)]).QueryContext(ctx, collectionID, modseq, fetch)
		if err != nil {
			return err
		}
		defer rows.Close()
		// The rows are scanned into objects allocated a batch at a time
		// through one scanner: a full sync reads every member.
		var (
			sc      objectScanner
			deleted bool
			objs    []store.Object
		)
		if limit > 0 {
			ch.Changes = make([]store.Change, 0, min(fetch, pageRows))
		}
		for rows.Next() {
			if len(objs) == cap(objs) {
				objs = make([]store.Object, 0, max(min(fetch, pageRows), 16))
			}
			objs = append(objs, store.Object{})
			o := &objs[len(objs)-1]
			if err := sc.scanChange(rows, &deleted, o, withBody); err != nil {
				return err
			}
			c := store.Change{Name: o.Name, ModSeq: o.ModSeq, Deleted: deleted}
			if deleted {
				objs = objs[:len(objs)-1]
			} else {
				c.Object = o
			}
			ch.Changes = append(ch.Changes, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		ch.ModSeq = current
		if limit > 0 && len(ch.Changes) > limit {
			ch.Changes = ch.Changes[:limit]
			ch.Truncated = true
			ch.ModSeq = ch.Changes[limit-1].ModSeq
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ch, nil
}

// PruneTombstones deletes tombstones recorded before the given time and raises
// each affected collection's PrunedModSeq to the highest modseq it removed:
// a sync token at or below it may have missed a deletion and must be refused
// (RFC 6578 §3.7, DAV:valid-sync-token).
func (s *Store) PruneTombstones(ctx context.Context, before time.Time) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := s.write(ctx, "prune tombstones", func(tx *sql.Tx) error {
		cutoff := toMicros(before)
		_, err := tx.ExecContext(ctx, `
			UPDATE collections SET pruned_modseq = max(pruned_modseq, p.modseq)
			FROM (SELECT collection_id, max(modseq) AS modseq
			      FROM tombstones WHERE deleted_at < $1 GROUP BY collection_id) AS p
			WHERE collections.id = p.collection_id`, cutoff)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM tombstones WHERE deleted_at < $1`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
