package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
)

// Job statuses, Mattermost's model.JobStatus* values.
const (
	JobStatusPending         = "pending"
	JobStatusInProgress      = "in_progress"
	JobStatusSuccess         = "success"
	JobStatusError           = "error"
	JobStatusCancelRequested = "cancel_requested"
	JobStatusCanceled        = "canceled"
	JobStatusWarning         = "warning"
)

// Job is one row of Mattermost's Jobs table: one run of a background job.
// Times are Unix milliseconds.
type Job struct {
	ID             string // 26-character id, chosen by the caller
	Type           string // e.g. "data_retention"
	Priority       int64
	CreateAt       int64
	StartAt        int64 // set when the run went in_progress
	LastActivityAt int64 // refreshed while the run is in progress
	Status         string
	Progress       int64             // percent
	Data           map[string]string // stored as a JSON object; nil reads back as empty
}

// jobColumns lists the Jobs columns in the order of [Job.scan].
const jobColumns = "Id, Type, Priority, CreateAt, StartAt, LastActivityAt, Status, Progress, Data"

// args returns j's column values in jobColumns order.
func (j *Job) args() ([]any, error) {
	data, err := marshalJobData(j.Data)
	if err != nil {
		return nil, err
	}
	return []any{j.ID, j.Type, j.Priority, j.CreateAt, j.StartAt, j.LastActivityAt, j.Status, j.Progress, data}, nil
}

func marshalJobData(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// scanJob scans a row of jobColumns.
func scanJob(row *sql.Rows) (*Job, error) {
	var j Job
	var data string
	if err := row.Scan(&j.ID, &j.Type, &j.Priority, &j.CreateAt, &j.StartAt, &j.LastActivityAt, &j.Status, &j.Progress, &data); err != nil {
		return nil, err
	}
	j.Data = map[string]string{}
	if data != "" {
		if err := json.Unmarshal([]byte(data), &j.Data); err != nil {
			// A row written by someone else with non-string values: keep
			// the text rather than fail the listing.
			j.Data = map[string]string{"raw": data}
		}
	}
	return &j, nil
}

// JobStore reads and writes the Jobs table. Writes and the reads a
// scheduler decides on go to the master; listings go to a read replica
// unless ctx comes from [WithMaster]. Every status change is conditional
// on the row's current status, so nodes racing for one run never both win.
// It is safe for concurrent use.
type JobStore struct {
	s *Store
}

// Save inserts j, which is not modified or kept. j.ID and j.Type must be
// set; a row with the same id gives a [*ConflictError], which is how two
// schedulers creating the same run learn that the other was first.
func (js *JobStore) Save(ctx context.Context, j *Job) error {
	s := js.s
	switch {
	case j.ID == "":
		return &InvalidError{Table: "Jobs", Field: "Id", Problem: "empty"}
	case j.Type == "":
		return &InvalidError{Table: "Jobs", Field: "Type", Problem: "empty"}
	}
	args, err := j.args()
	if err != nil {
		return s.errorf("saving job %s: %w", j.ID, err)
	}
	if _, err := s.exec(ctx, "INSERT INTO Jobs ("+jobColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", args...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Jobs", ID: j.ID, Err: err}
		}
		return s.errorf("saving job %s: %w", j.ID, err)
	}
	return nil
}

// Get returns the job of id, read on the master, or an error wrapping
// [ErrNotFound].
func (js *JobStore) Get(ctx context.Context, id string) (*Job, error) {
	s := js.s
	jobs, err := queryAll(ctx, s, toMaster, "SELECT "+jobColumns+" FROM Jobs WHERE Id = ?", []any{id},
		func(rows *sql.Rows) (*Job, error) { return scanJob(rows) })
	if err != nil {
		return nil, s.errorf("getting job %s: %w", id, err)
	}
	if len(jobs) == 0 {
		return nil, s.errorf("getting job %s: %w", id, ErrNotFound)
	}
	return jobs[0], nil
}

// GetNewestOfType returns the job of typ created last (by CreateAt, then
// id), read on the master, or an error wrapping [ErrNotFound].
func (js *JobStore) GetNewestOfType(ctx context.Context, typ string) (*Job, error) {
	s := js.s
	jobs, err := queryAll(ctx, s, toMaster,
		"SELECT "+jobColumns+" FROM Jobs WHERE Type = ? ORDER BY CreateAt DESC, Id DESC LIMIT 1",
		[]any{typ}, func(rows *sql.Rows) (*Job, error) { return scanJob(rows) })
	if err != nil {
		return nil, s.errorf("getting newest job of type %q: %w", typ, err)
	}
	if len(jobs) == 0 {
		return nil, s.errorf("getting newest job of type %q: %w", typ, ErrNotFound)
	}
	return jobs[0], nil
}

// GetAllPage returns up to limit jobs after skipping offset, newest first
// (by CreateAt, then id), as GET /api/v4/jobs lists them. An empty typ or
// status matches any. A page past the end is empty, not an error.
func (js *JobStore) GetAllPage(ctx context.Context, typ, status string, offset, limit int) ([]*Job, error) {
	s := js.s
	switch {
	case offset < 0:
		return nil, &InvalidError{Table: "Jobs", Field: "offset", Problem: "negative"}
	case limit <= 0:
		return nil, &InvalidError{Table: "Jobs", Field: "limit", Problem: "must be positive"}
	}
	var where []string
	var args []any
	if typ != "" {
		where, args = append(where, "Type = ?"), append(args, typ)
	}
	if status != "" {
		where, args = append(where, "Status = ?"), append(args, status)
	}
	query := "SELECT " + jobColumns + " FROM Jobs"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY CreateAt DESC, Id DESC LIMIT ? OFFSET ?"
	jobs, err := queryAll(ctx, s, toReplica, query, append(args, limit, offset),
		func(rows *sql.Rows) (*Job, error) { return scanJob(rows) })
	if err != nil {
		return nil, s.errorf("listing jobs: %w", err)
	}
	return jobs, nil
}

// UpdateStatusOptimistically moves job id from currentStatus to newStatus
// at at (Unix milliseconds, written to LastActivityAt, and to StartAt when
// newStatus is [JobStatusInProgress]) and reports whether it did: false
// means the job was not in currentStatus (another node claimed or ended
// it first), or does not exist. It is one conditional UPDATE, so of
// several nodes claiming a pending job exactly one gets true.
func (js *JobStore) UpdateStatusOptimistically(ctx context.Context, id, currentStatus, newStatus string, at int64) (bool, error) {
	s := js.s
	set := "Status = ?, LastActivityAt = ?"
	args := []any{newStatus, at}
	if newStatus == JobStatusInProgress {
		set += ", StartAt = ?"
		args = append(args, at)
	}
	res, err := s.exec(ctx, "UPDATE Jobs SET "+set+" WHERE Id = ? AND Status = ?", append(args, id, currentStatus)...)
	if err != nil {
		return false, s.errorf("updating status of job %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.errorf("updating status of job %s: %w", id, err)
	}
	return n > 0 || (currentStatus == newStatus && js.holds(ctx, id, newStatus, at)), nil
}

// UpdateOptimistically writes j's Status, LastActivityAt, Progress and
// Data when the row of j.ID is still in currentStatus, and reports whether
// it was: false means another node changed the job first (for a run in
// progress: declared it abandoned). A scheduler heartbeats a run with
// currentStatus equal to j.Status, and ends it with a final status.
func (js *JobStore) UpdateOptimistically(ctx context.Context, j *Job, currentStatus string) (bool, error) {
	return js.update(ctx, j, currentStatus, 0)
}

// UpdateIfIdle is [JobStore.UpdateOptimistically] that also requires the
// row's LastActivityAt to be before idleBefore (Unix milliseconds): it
// declares a run whose node stopped heartbeating abandoned, and fails if
// the run showed a sign of life since it was read.
func (js *JobStore) UpdateIfIdle(ctx context.Context, j *Job, currentStatus string, idleBefore int64) (bool, error) {
	return js.update(ctx, j, currentStatus, idleBefore)
}

// update is UpdateOptimistically, with LastActivityAt < idleBefore as an
// extra condition when idleBefore is not zero.
func (js *JobStore) update(ctx context.Context, j *Job, currentStatus string, idleBefore int64) (bool, error) {
	s := js.s
	data, err := marshalJobData(j.Data)
	if err != nil {
		return false, s.errorf("updating job %s: %w", j.ID, err)
	}
	query := "UPDATE Jobs SET Status = ?, LastActivityAt = ?, Progress = ?, Data = ? WHERE Id = ? AND Status = ?"
	args := []any{j.Status, j.LastActivityAt, j.Progress, data, j.ID, currentStatus}
	if idleBefore != 0 {
		query += " AND LastActivityAt < ?"
		args = append(args, idleBefore)
	}
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return false, s.errorf("updating job %s: %w", j.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.errorf("updating job %s: %w", j.ID, err)
	}
	return n > 0 || (idleBefore == 0 && currentStatus == j.Status && js.holds(ctx, j.ID, j.Status, j.LastActivityAt)), nil
}

// holds reports whether job id is in status with LastActivityAt at. MySQL
// reports the rows an UPDATE changed, not those it matched, so an update
// that rewrites a row with the values it already has (a heartbeat within
// the same millisecond) reports none; this read tells that case from a
// lost race.
func (js *JobStore) holds(ctx context.Context, id, status string, at int64) bool {
	var n int64
	err := js.s.queryRow(ctx, toMaster, "SELECT COUNT(*) FROM Jobs WHERE Id = ? AND Status = ? AND LastActivityAt = ?",
		[]any{id, status, at}, &n)
	return err == nil && n > 0
}

// Cleanup statements the scheduled jobs run. They belong to their
// aggregates (session_store.go, post_store.go) and sit here, with the jobs
// that use them, until those files take them.

// DeleteExpired deletes up to limit sessions that expired before before
// (Unix milliseconds; sessions with ExpiresAt 0 never expire), as
// Mattermost's SessionStore.Cleanup does in batches, and returns how many
// it deleted. limit must be positive.
func (ss *SessionStore) DeleteExpired(ctx context.Context, before int64, limit int) (int64, error) {
	return deleteBatch(ctx, ss.s, "Sessions", "ExpiresAt <> 0 AND ExpiresAt < ?", before, limit)
}

// PermanentDeleteBefore deletes up to limit posts created before before
// (Unix milliseconds), deleted or not, as Mattermost's data retention
// (PostStore.PermanentDeleteBatch) does, and returns how many it deleted.
// The channels' counters are left as they are, as in Mattermost. limit
// must be positive.
func (ps *PostStore) PermanentDeleteBefore(ctx context.Context, before int64, limit int) (int64, error) {
	return deleteBatch(ctx, ps.s, "Posts", "CreateAt < ?", before, limit)
}

// deleteBatch deletes up to limit rows of table matching cond (with one
// argument, arg) and returns how many it deleted. It reads the ids first
// and deletes by id, because MySQL allows neither LIMIT in an IN subquery
// nor a subquery on the table being deleted from, and PostgreSQL has no
// DELETE ... LIMIT.
func deleteBatch(ctx context.Context, s *Store, table, cond string, arg any, limit int) (int64, error) {
	if limit <= 0 {
		return 0, &InvalidError{Table: table, Field: "limit", Problem: "must be positive"}
	}
	ids, err := queryAll(ctx, s, toMaster, "SELECT Id FROM "+table+" WHERE "+cond+" LIMIT ?", []any{arg, limit},
		func(rows *sql.Rows) (any, error) {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			return id, nil
		})
	if err != nil {
		return 0, s.errorf("finding %s to delete: %w", strings.ToLower(table), err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	// cond is checked again, so a row changed since it was read stays.
	query := "DELETE FROM " + table + " WHERE Id IN (?" + strings.Repeat(", ?", len(ids)-1) + ") AND " + cond
	res, err := s.exec(ctx, query, append(ids, arg)...)
	if err != nil {
		return 0, s.errorf("deleting %s: %w", strings.ToLower(table), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.errorf("deleting %s: %w", strings.ToLower(table), err)
	}
	return n, nil
}
