package config

// Driver names accepted in [SqlSettings.DriverName].
const (
	// DriverSQLite is a single database file on the node's disk: zero setup,
	// and several node processes on one host may share the file.
	DriverSQLite = "sqlite"
	// DriverPostgres is PostgreSQL, Mattermost's default and recommended
	// database.
	DriverPostgres = "postgres"
	// DriverMySQL is MySQL or MariaDB, still accepted by older Mattermost
	// releases.
	DriverMySQL = "mysql"
)

// DefaultSQLiteDataSource is the database file used when DriverName is
// [DriverSQLite] and no DataSource is given, relative to the working
// directory.
const DefaultSQLiteDataSource = "./data/chorus.db"

// Config is the part of Mattermost's config.json an app node reads. The Go
// and JSON names are Mattermost's (JSON matching is case-insensitive, as in
// Mattermost). A Config returned by [Load] has defaults filled in, environment
// overrides applied and has passed [Config.Validate]; nothing in Chorus writes
// it back to the file.
type Config struct {
	// ServiceSettings holds the HTTP listener and health settings.
	ServiceSettings ServiceSettings
	// SqlSettings holds the database connection settings. The name is
	// Mattermost's (not SQLSettings) and is kept for compatibility.
	SqlSettings SqlSettings
	// ClusterSettings holds the high-availability cluster settings.
	ClusterSettings ClusterSettings
	// TeamSettings holds who may sign up, and presence timing.
	TeamSettings TeamSettings
	// EmailSettings holds how users sign up and sign in with a password.
	EmailSettings EmailSettings
	// PasswordSettings holds the rules new passwords must meet.
	PasswordSettings PasswordSettings
	// JobSettings holds where scheduled jobs run.
	JobSettings JobSettings
	// DataRetentionSettings holds how long posts are kept.
	DataRetentionSettings DataRetentionSettings

	// envOverrides lists the settings (as "Section.Field") whose values came
	// from the environment rather than the file; set by Load.
	envOverrides []string
}

// ServiceSettings is Mattermost's ServiceSettings section, reduced to what a
// node uses. Environment variables: MM_SERVICESETTINGS_<FIELD>.
type ServiceSettings struct {
	// SiteURL is the URL users reach the site at, through the front door
	// (e.g. "https://chat.example.com"). Default "" (unset: links are built
	// from the request's host). Env MM_SERVICESETTINGS_SITEURL.
	SiteURL string
	// ListenAddress is the host:port the node's HTTP server listens on. An
	// empty host listens on every interface. Default ":8065" (Mattermost's
	// port). Env MM_SERVICESETTINGS_LISTENADDRESS.
	ListenAddress string
	// GoroutineHealthThreshold makes GET /api/v4/system/ping report
	// "UNHEALTHY" once the process runs this many goroutines or more. Zero or
	// negative disables the check. Default -1 (disabled). Lower: earlier
	// warning of a leak or overload, more false alarms under a burst. Env
	// MM_SERVICESETTINGS_GOROUTINEHEALTHTHRESHOLD.
	GoroutineHealthThreshold int
	// SessionLengthWebInHours is how long a session made by
	// POST /api/v4/users/login lasts, in hours; its cookies expire with it.
	// Zero or negative means the default. Default 720 (30 days, Mattermost's).
	// Lower: a stolen token is useful for less time, users log in more often.
	// Env MM_SERVICESETTINGS_SESSIONLENGTHWEBINHOURS.
	SessionLengthWebInHours int
	// SessionCacheInMinutes is how long a node keeps a session in memory
	// after reading it from the database, so that a request does not read
	// its session from the database. A session revoked on another node
	// stays usable here for up to this long. Zero or negative means the
	// default. Default 10 (Mattermost's). Lower: revocations elsewhere take
	// effect sooner, more session reads. Env
	// MM_SERVICESETTINGS_SESSIONCACHEINMINUTES.
	SessionCacheInMinutes int
	// MaximumPayloadSizeBytes caps the body of an API request, in bytes; a
	// larger one is refused with 413 (Mattermost adds bytes.MinRead, 512, to
	// it, and so does Chorus). Zero or negative means the default. Default
	// 300000 (Mattermost's, since 9.7.2). Env
	// MM_SERVICESETTINGS_MAXIMUMPAYLOADSIZEBYTES.
	MaximumPayloadSizeBytes int
	// MaximumLoginAttempts is how many wrong passwords in a row lock an
	// account out of password login. Zero or negative disables the lock.
	// Default 10 (Mattermost's). Lower: less guessing, easier to lock a
	// user out on purpose. Env MM_SERVICESETTINGS_MAXIMUMLOGINATTEMPTS.
	MaximumLoginAttempts int
}

// SqlSettings is Mattermost's SqlSettings section, reduced to what a node
// uses. Environment variables: MM_SQLSETTINGS_<FIELD>.
type SqlSettings struct {
	// DriverName selects the database: [DriverSQLite], [DriverPostgres] or
	// [DriverMySQL]. Default "sqlite" (Mattermost defaults to "postgres"; a
	// Chorus node starts with no database server). Env
	// MM_SQLSETTINGS_DRIVERNAME.
	DriverName string
	// DataSource is the master database: a file path for sqlite (the parent
	// directory is created), a URL or key=value DSN for postgres, a
	// go-sql-driver DSN for mysql ("user:pass@tcp(host:3306)/db"). Default
	// [DefaultSQLiteDataSource] when DriverName is sqlite; no default for the
	// other drivers ([Load] leaves it empty and Validate rejects it). Env
	// MM_SQLSETTINGS_DATASOURCE. The password in it never appears in an error.
	DataSource string
	// DataSourceReplicas are read replicas of DataSource, in the same DSN
	// form. Reads that need not see a write just made round-robin over the
	// replicas that answer; a replica that fails with a connection error
	// leaves the rotation until it answers a probe again (see
	// ReplicaMonitorIntervalSeconds). Default none (every read goes to the
	// master). Env MM_SQLSETTINGS_DATASOURCEREPLICAS, DSNs separated by
	// single spaces.
	DataSourceReplicas []string
	// DataSourceSearchReplicas are replicas used only for search queries,
	// round-robin, like DataSourceReplicas. Default none (search uses
	// DataSourceReplicas, then the master). Env
	// MM_SQLSETTINGS_DATASOURCESEARCHREPLICAS, DSNs separated by single
	// spaces.
	DataSourceSearchReplicas []string
	// MaxIdleConns is the number of idle connections kept per data source.
	// Zero keeps none. Default 20. Higher: fewer reconnects after a burst, more
	// idle server sessions. Env MM_SQLSETTINGS_MAXIDLECONNS.
	MaxIdleConns int
	// MaxOpenConns caps the open connections per data source (per DSN, as in
	// Mattermost). Zero or negative means no cap. Default 300. Lower: less
	// load on the database, requests queue for a connection sooner. Env
	// MM_SQLSETTINGS_MAXOPENCONNS.
	MaxOpenConns int
	// ConnMaxLifetimeMilliseconds closes a connection this long after it was
	// opened. Zero or negative keeps connections forever. Default 3600000 (one
	// hour). Lower: connections follow DNS or failover changes sooner, more
	// reconnects. Env MM_SQLSETTINGS_CONNMAXLIFETIMEMILLISECONDS.
	ConnMaxLifetimeMilliseconds int
	// ConnMaxIdleTimeMilliseconds closes a connection idle this long. Zero or
	// negative never closes idle connections. Default 300000 (five minutes).
	// Env MM_SQLSETTINGS_CONNMAXIDLETIMEMILLISECONDS.
	ConnMaxIdleTimeMilliseconds int
	// QueryTimeout bounds every store query, in seconds. Zero or negative
	// leaves queries bounded only by the caller's context. Default 30. Lower:
	// a stuck database frees request goroutines sooner, long queries fail.
	// Env MM_SQLSETTINGS_QUERYTIMEOUT.
	QueryTimeout int
	// ReplicaMonitorIntervalSeconds is how often a replica out of rotation
	// is probed again, in seconds; one that answers is back in rotation at
	// once. Zero or negative means the default. Default 5. Lower: a
	// recovered replica takes load sooner, more connection attempts to a
	// dead one. Env MM_SQLSETTINGS_REPLICAMONITORINTERVALSECONDS.
	ReplicaMonitorIntervalSeconds int
	// Trace logs every SQL statement (its text, data source, duration and
	// error, never its arguments) at info level, so it shows without
	// changing the log level; Mattermost logs it at debug. Default false.
	// Env MM_SQLSETTINGS_TRACE.
	Trace bool
}

// ClusterSettings is Mattermost's ClusterSettings section. Environment
// variables: MM_CLUSTERSETTINGS_<FIELD>.
type ClusterSettings struct {
	// Enable turns on clustering with the other nodes of ClusterName. Default
	// false (a single node). Env MM_CLUSTERSETTINGS_ENABLE.
	Enable bool
	// ClusterName names the cluster; nodes join only peers with the same name.
	// Required when Enable is true. Default "". Env
	// MM_CLUSTERSETTINGS_CLUSTERNAME.
	ClusterName string
	// OverrideHostname is the address this node advertises to its peers.
	// Default "" (detected). Env MM_CLUSTERSETTINGS_OVERRIDEHOSTNAME.
	OverrideHostname string
	// NetworkInterface is the interface whose address is detected when
	// OverrideHostname is empty. Default "" (any). Env
	// MM_CLUSTERSETTINGS_NETWORKINTERFACE.
	NetworkInterface string
	// BindAddress is the IP the gossip listener binds. Default "" (all). Env
	// MM_CLUSTERSETTINGS_BINDADDRESS.
	BindAddress string
	// AdvertiseAddress is the gossip IP announced to peers, for NAT. Default
	// "" (the bind address). Env MM_CLUSTERSETTINGS_ADVERTISEADDRESS.
	AdvertiseAddress string
	// UseIPAddress advertises the node's IP address rather than its hostname.
	// Default true. Older configs spell it UseIpAddress; JSON matching is
	// case-insensitive, so both load. Env MM_CLUSTERSETTINGS_USEIPADDRESS.
	UseIPAddress bool
	// EnableGossipCompression compresses gossip messages. Default true. Env
	// MM_CLUSTERSETTINGS_ENABLEGOSSIPCOMPRESSION.
	EnableGossipCompression bool
	// EnableGossipEncryption encrypts gossip with the cluster key. Default
	// false. Mattermost before v12 names it EnableExperimentalGossipEncryption
	// (PR #37743); Chorus reads the new name. Env
	// MM_CLUSTERSETTINGS_ENABLEGOSSIPENCRYPTION.
	EnableGossipEncryption bool
	// ReadOnlyConfig forbids changing the config through the API while
	// clustered. Default true. Env MM_CLUSTERSETTINGS_READONLYCONFIG.
	ReadOnlyConfig bool
	// GossipPort is the TCP and UDP port of the gossip protocol. Default 8074.
	// Env MM_CLUSTERSETTINGS_GOSSIPPORT.
	GossipPort int
}

// TeamSettings is the part of Mattermost's TeamSettings section a node
// uses. Environment variables: MM_TEAMSETTINGS_<FIELD>.
type TeamSettings struct {
	// EnableUserCreation allows new accounts at all. Default true. With
	// false, POST /api/v4/users answers 501, as Mattermost does. Env
	// MM_TEAMSETTINGS_ENABLEUSERCREATION.
	EnableUserCreation bool
	// EnableOpenServer lets anyone sign up with POST /api/v4/users; without
	// it only the first account (which becomes the system admin) and
	// accounts created by a system admin may be made. Default false
	// (Mattermost's). Env MM_TEAMSETTINGS_ENABLEOPENSERVER.
	EnableOpenServer bool
	// UserStatusAwayTimeout is how long a user's client may report no
	// activity before the user is shown away, in seconds. Zero or negative
	// means the default. Default 300 (Mattermost's). Env
	// MM_TEAMSETTINGS_USERSTATUSAWAYTIMEOUT.
	UserStatusAwayTimeout int
}

// EmailSettings is the part of Mattermost's EmailSettings section a node
// uses (Chorus sends no email). Environment variables:
// MM_EMAILSETTINGS_<FIELD>.
type EmailSettings struct {
	// EnableSignUpWithEmail allows accounts with an email and a password.
	// Default true. With false, POST /api/v4/users answers 501, as
	// Mattermost does. Env MM_EMAILSETTINGS_ENABLESIGNUPWITHEMAIL.
	EnableSignUpWithEmail bool
	// EnableSignInWithEmail lets a user log in with their email as
	// login_id. Default true. Env MM_EMAILSETTINGS_ENABLESIGNINWITHEMAIL.
	EnableSignInWithEmail bool
	// EnableSignInWithUsername lets a user log in with their username as
	// login_id. Default true. Env MM_EMAILSETTINGS_ENABLESIGNINWITHUSERNAME.
	EnableSignInWithUsername bool
}

// PasswordSettings is Mattermost's PasswordSettings section: the rules a
// new password must meet. Environment variables:
// MM_PASSWORDSETTINGS_<FIELD>.
type PasswordSettings struct {
	// MinimumLength is the shortest password accepted, in bytes. Values
	// below 1 mean the default. Default 8 (Mattermost's). Passwords are at
	// most 72 bytes, bcrypt's limit, whatever this says. Env
	// MM_PASSWORDSETTINGS_MINIMUMLENGTH.
	MinimumLength int
	// Lowercase requires a lower-case letter. Default false. Env
	// MM_PASSWORDSETTINGS_LOWERCASE.
	Lowercase bool
	// Uppercase requires an upper-case letter. Default false. Env
	// MM_PASSWORDSETTINGS_UPPERCASE.
	Uppercase bool
	// Number requires a digit. Default false. Env MM_PASSWORDSETTINGS_NUMBER.
	Number bool
	// Symbol requires a symbol (one of " !\"#$%&'()*+,-./:;<=>?@[]^_`|~").
	// Default false. Env MM_PASSWORDSETTINGS_SYMBOL.
	Symbol bool
}

// JobSettings is the part of Mattermost's JobSettings section a node
// uses. Environment variables: MM_JOBSETTINGS_<FIELD>.
type JobSettings struct {
	// RunScheduler lets this node schedule jobs (session cleanup, cluster
	// discovery cleanup, data retention) while it is the cluster's leader;
	// only the leader schedules, so keep it true on every node, or jobs
	// stop whenever a node with false leads (mattermost/docs#3845).
	// Default true. Env MM_JOBSETTINGS_RUNSCHEDULER.
	RunScheduler bool
}

// DataRetentionSettings is the part of Mattermost's DataRetentionSettings
// section a node uses: the daily deletion of old posts. Environment
// variables: MM_DATARETENTIONSETTINGS_<FIELD>.
type DataRetentionSettings struct {
	// EnableMessageDeletion deletes, once a day, posts older than
	// MessageRetentionDays. Default false. Env
	// MM_DATARETENTIONSETTINGS_ENABLEMESSAGEDELETION.
	EnableMessageDeletion bool
	// MessageRetentionDays is how many days a post is kept when
	// EnableMessageDeletion is on. Values below 1 mean the default.
	// Default 365. Env MM_DATARETENTIONSETTINGS_MESSAGERETENTIONDAYS.
	MessageRetentionDays int
	// BatchSize is how many posts one delete statement removes. Values
	// below 1 mean the default. Default 3000. Lower: shorter locks, more
	// statements. Env MM_DATARETENTIONSETTINGS_BATCHSIZE.
	BatchSize int
}

// DefaultConfig returns a fresh Config with every default set, the values
// [Load] starts from.
func DefaultConfig() *Config {
	return &Config{
		ServiceSettings: ServiceSettings{
			SiteURL:                  "",      // links follow the request's host until an operator sets it
			ListenAddress:            ":8065", // Mattermost's port, so clients and proxies need no change
			GoroutineHealthThreshold: -1,      // disabled, as in Mattermost: goroutine counts vary too much to guess
			SessionLengthWebInHours:  720,     // Mattermost's 30 days
			SessionCacheInMinutes:    10,      // Mattermost's: a request never reads its session from the database
			MaximumPayloadSizeBytes:  300000,  // Mattermost's since 9.7.2: a post is at most 16383 runes
			MaximumLoginAttempts:     10,      // Mattermost's: slows password guessing
		},
		SqlSettings: SqlSettings{
			DriverName:                    DriverSQLite,            // a node starts without a database server
			DataSource:                    DefaultSQLiteDataSource, // under the working directory, created on open
			DataSourceReplicas:            []string{},              // no replicas: reads go to the master
			DataSourceSearchReplicas:      []string{},              // no search replicas: search follows reads
			MaxIdleConns:                  20,                      // Mattermost's default, absorbs a burst without reconnects
			MaxOpenConns:                  300,                     // Mattermost's per-DSN cap
			ConnMaxLifetimeMilliseconds:   3600000,                 // an hour: follows failover without churn
			ConnMaxIdleTimeMilliseconds:   300000,                  // five minutes: frees sessions after a burst
			QueryTimeout:                  30,                      // Mattermost's per-query bound, in seconds
			ReplicaMonitorIntervalSeconds: 5,                       // Mattermost's re-probe interval for offline replicas
			Trace:                         false,                   // query logging is for debugging only
		},
		ClusterSettings: ClusterSettings{
			Enable:                  false, // a single node needs no cluster
			ClusterName:             "",    // must be chosen by the operator before enabling
			OverrideHostname:        "",    // detect the address
			NetworkInterface:        "",    // detect on any interface
			BindAddress:             "",    // gossip on all addresses
			AdvertiseAddress:        "",    // advertise the bound address
			UseIPAddress:            true,  // IPs work without shared DNS
			EnableGossipCompression: true,  // Mattermost's default; cheap CPU for less traffic
			EnableGossipEncryption:  false, // Mattermost's default; needs the shared key
			ReadOnlyConfig:          true,  // nodes must not drift apart through API edits
			GossipPort:              8074,  // Mattermost's gossip port
		},
		TeamSettings: TeamSettings{
			EnableUserCreation:    true,  // Mattermost's: accounts may be made
			EnableOpenServer:      false, // Mattermost's: only the first user and admins make accounts
			UserStatusAwayTimeout: 300,   // Mattermost's five minutes
		},
		EmailSettings: EmailSettings{
			EnableSignUpWithEmail:    true, // the only sign-up Chorus has
			EnableSignInWithEmail:    true, // Mattermost's
			EnableSignInWithUsername: true, // Mattermost's
		},
		PasswordSettings: PasswordSettings{
			MinimumLength: 8,     // Mattermost's
			Lowercase:     false, // Mattermost's: length is what matters
			Uppercase:     false,
			Number:        false,
			Symbol:        false,
		},
		JobSettings: JobSettings{
			RunScheduler: true, // Mattermost's: every node must keep it, the leader alone schedules
		},
		DataRetentionSettings: DataRetentionSettings{
			EnableMessageDeletion: false, // Mattermost's: nothing is deleted unless asked
			MessageRetentionDays:  365,   // Mattermost's
			BatchSize:             3000,  // Mattermost's: short transactions
		},
	}
}

// EnvOverrides returns the settings, as "Section.Field" (for example
// "SqlSettings.DataSource"), whose values [Load] took from MM_* environment
// variables, sorted. The caller owns the returned slice. It is empty for a
// Config not made by Load.
func (c *Config) EnvOverrides() []string {
	return append([]string(nil), c.envOverrides...)
}
