package app

import "context"

// The store interfaces below are what the app needs of the database, one
// per aggregate, each holding only the methods the app calls. node/bind
// adapts node/store to them.
//
// Contract, for every method: calls may run concurrently, do I/O and block
// until ctx ends. Arguments are neither modified nor kept; results belong
// to the caller. A lookup that matches nothing returns an error wrapping
// [ErrNotFound]; a write that would duplicate a unique value returns an
// error wrapping [ErrConflict]. Reads go to a read replica unless ctx comes
// from [Stores.Master]; writes go to the master.

// UserStore reads and writes users.
type UserStore interface {
	// Save inserts u, whose ID is set.
	Save(ctx context.Context, u *User) error
	// Get returns the user of id, deleted or not.
	Get(ctx context.Context, id string) (*User, error)
	// GetByUsername returns the user whose (lower-case) username is given.
	GetByUsername(ctx context.Context, username string) (*User, error)
	// GetByEmail returns the user whose (lower-case) email is given.
	GetByEmail(ctx context.Context, email string) (*User, error)
	// GetMany returns the users of ids that exist, in any order.
	GetMany(ctx context.Context, ids []string) ([]*User, error)
	// Count returns the number of users, deleted ones included, read on
	// the master.
	Count(ctx context.Context) (int64, error)
	// UpdateFailedAttempts sets a user's count of wrong passwords in a row.
	UpdateFailedAttempts(ctx context.Context, id string, attempts int) error
	// Update writes the profile of u (UpdateAt, Username, Email,
	// EmailVerified, Nickname, FirstName, LastName, Position, Props,
	// NotifyProps, Timezone, Locale) over the user of u.ID, leaving the
	// password, roles, deletion and counters as they are; a username or
	// email another user has is a conflict.
	Update(ctx context.Context, u *User) error
}

// SessionStore reads and writes login sessions. Every call goes to the
// master.
type SessionStore interface {
	// Save inserts s, whose ID and Token are set.
	Save(ctx context.Context, s *Session) error
	// GetByToken returns the session of token, expired or not.
	GetByToken(ctx context.Context, token string) (*Session, error)
	// Remove deletes the session of id; a missing one is not an error.
	Remove(ctx context.Context, id string) error
}

// TeamStore reads and writes teams and their members.
type TeamStore interface {
	// Save inserts t, whose ID is set; a taken name is a conflict.
	Save(ctx context.Context, t *Team) error
	// Get returns the team of id, archived or not.
	Get(ctx context.Context, id string) (*Team, error)
	// GetForUser returns the teams userID is an active member of, by
	// display name.
	GetForUser(ctx context.Context, userID string) ([]*Team, error)
	// SaveMember inserts m; an existing membership is a conflict.
	SaveMember(ctx context.Context, m *TeamMember) error
	// GetMember returns userID's membership of teamID.
	GetMember(ctx context.Context, teamID, userID string) (*TeamMember, error)
	// GetMemberIDs returns the ids of teamID's active members.
	GetMemberIDs(ctx context.Context, teamID string) ([]string, error)
}

// ChannelStore reads and writes channels and their members.
type ChannelStore interface {
	// Save inserts c, whose ID is set; a taken name in the team is a
	// conflict.
	Save(ctx context.Context, c *Channel) error
	// SaveWithMember inserts c and its first member m in one transaction.
	SaveWithMember(ctx context.Context, c *Channel, m *ChannelMember) error
	// Get returns the channel of id, archived or not.
	Get(ctx context.Context, id string) (*Channel, error)
	// GetByName returns the channel of teamID named name.
	GetByName(ctx context.Context, teamID, name string) (*Channel, error)
	// GetForTeamUser returns the channels of teamID that userID is in and
	// that are not archived, by display name.
	GetForTeamUser(ctx context.Context, teamID, userID string) ([]*Channel, error)
	// SaveMember inserts m; an existing membership is a conflict.
	SaveMember(ctx context.Context, m *ChannelMember) error
	// GetMember returns userID's membership of channelID.
	GetMember(ctx context.Context, channelID, userID string) (*ChannelMember, error)
	// GetMemberIDs returns the ids of channelID's members.
	GetMemberIDs(ctx context.Context, channelID string) ([]string, error)
}

// PostStore reads and writes posts. Every list is newest first.
type PostStore interface {
	// Save inserts p, whose ID and ChannelID are set, and counts it in its
	// channel.
	Save(ctx context.Context, p *Post) error
	// Get returns the post of id, deleted or not.
	Get(ctx context.Context, id string) (*Post, error)
	// GetPage returns page number page of the channel's posts that are not
	// deleted, perPage to a page.
	GetPage(ctx context.Context, channelID string, page, perPage int) ([]*Post, error)
	// GetBefore is GetPage counted from the post postID backwards.
	GetBefore(ctx context.Context, channelID, postID string, page, perPage int) ([]*Post, error)
	// GetAfter is GetPage counted from the post postID forwards.
	GetAfter(ctx context.Context, channelID, postID string, page, perPage int) ([]*Post, error)
	// GetSince returns up to limit posts updated after since (deleted
	// ones included).
	GetSince(ctx context.Context, channelID string, since int64, limit int) ([]*Post, error)
	// GetThreads returns the roots rootIDs and their replies, not deleted.
	GetThreads(ctx context.Context, rootIDs []string) ([]*Post, error)
	// IDBefore returns the newest post of the channel created before
	// createAt, or "".
	IDBefore(ctx context.Context, channelID string, createAt int64) (string, error)
	// IDAfter returns the oldest post of the channel created after
	// createAt, or "".
	IDAfter(ctx context.Context, channelID string, createAt int64) (string, error)
}

// StatusStore reads and writes users' presence.
type StatusStore interface {
	// SaveOrUpdate writes st as its user's status.
	SaveOrUpdate(ctx context.Context, st *UserStatus) error
	// Get returns the status of userID.
	Get(ctx context.Context, userID string) (*UserStatus, error)
	// GetMany returns the statuses of those of userIDs that have one.
	GetMany(ctx context.Context, userIDs []string) ([]*UserStatus, error)
}

// Stores are the chat's store interfaces, given to [New] in [Deps]. Every
// interface field is required for the chat API; an App without them still
// answers health checks and config reloads.
type Stores struct {
	Users    UserStore
	Sessions SessionStore
	Teams    TeamStore
	Channels ChannelStore
	Posts    PostStore
	Statuses StatusStore
	// Master returns a context whose reads go to the master database
	// (store.WithMaster), for reads that must see a write just made, on
	// this node or another. Nil uses ctx as is.
	Master func(ctx context.Context) context.Context
}

// complete reports whether every store is set.
func (s Stores) complete() bool {
	return s.Users != nil && s.Sessions != nil && s.Teams != nil && s.Channels != nil &&
		s.Posts != nil && s.Statuses != nil
}

// empty reports whether no store is set.
func (s Stores) empty() bool {
	return s.Users == nil && s.Sessions == nil && s.Teams == nil && s.Channels == nil &&
		s.Posts == nil && s.Statuses == nil
}

// master returns ctx for reads that must be fresh.
func (a *App) master(ctx context.Context) context.Context {
	if a.stores.Master == nil {
		return ctx
	}
	return a.stores.Master(ctx)
}
