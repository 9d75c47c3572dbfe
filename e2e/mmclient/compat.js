// compat.js drives a running Chorus node with the official @mattermost/client,
// unchanged, the way a Mattermost web or desktop client would:
//
//   node compat.js http://127.0.0.1:8065
//
// It signs up two users, logs in, creates a team and a channel, patches a
// user (receiving `user_updated`), posts, reads the channel's posts,
// receives `posted` and `typing` on WebSocketClient, then
// drops the socket while posts are made, reconnects, and checks that exactly
// the missed posts arrive, in order. It exits 0 and prints "compat: ok" when
// every step held; otherwise it prints the failed step and exits 1. Every wait
// is bounded.
'use strict';

// Node 20 has neither a global WebSocket nor CloseEvent; WebSocketClient
// needs both (see shared/reference/mattermost.md §4.1).
const WS = require('ws');
globalThis.WebSocket = WS;
if (typeof CloseEvent === 'undefined') {
    globalThis.CloseEvent = class extends Event {
        constructor(type, opts = {}) {
            super(type);
            this.code = opts.code;
            this.wasClean = Boolean(opts.wasClean);
            this.reason = opts.reason || '';
        }
    };
}
const {Client4, WebSocketClient} = require('@mattermost/client');

const base = process.argv[2] || 'http://127.0.0.1:8065';
const STEP_TIMEOUT_MS = 10000;

let step = 'start';
function check(cond, msg) {
    if (!cond) {
        throw new Error(msg);
    }
}

// waitFor resolves when pred() holds, polling every 20 ms, or rejects after
// STEP_TIMEOUT_MS.
function waitFor(pred, what) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
        const tick = () => {
            if (pred()) {
                resolve();
            } else if (Date.now() > deadline) {
                reject(new Error('timed out waiting for ' + what));
            } else {
                setTimeout(tick, 20);
            }
        };
        tick();
    });
}

function newClient() {
    const c = new Client4();
    c.setUrl(base);
    return c;
}

// socket opens a WebSocketClient for client c and records every event, and
// every time the server could not replay what the client missed.
//
// WebSocketClient remembers the hello's connection_id, which it needs to
// resume a connection, only when a missed-message listener is registered
// (lib/websocket.js); without one it reconnects with an empty
// connection_id and loops on sequence mismatches. Mattermost's web app
// always registers one (it resynchronises there), and so does this script.
function socket(c) {
    const events = [];
    const resyncs = [];
    const ws = new WebSocketClient({
        newWebSocketFn: (url) => new WS(url, {headers: {Authorization: 'Bearer ' + c.getToken()}}),
    });
    ws.addMessageListener((m) => events.push(m));
    ws.addMissedMessageListener(() => resyncs.push(Date.now()));
    ws.initialize(c.getWebSocketUrl().replace(/^http/, 'ws'), c.getToken());
    return {ws, events, resyncs};
}

function postedIn(events, channelId) {
    return events.
        filter((e) => e.event === 'posted').
        map((e) => JSON.parse(e.data.post)).
        filter((p) => p.channel_id === channelId);
}

async function main() {
    const suffix = Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36);
    const alice = newClient();
    const bob = newClient();

    step = 'sign up two users';
    const a = await alice.createUser({username: 'alice' + suffix, email: `alice${suffix}@example.com`, password: 'Passw0rd!alice'});
    const b = await bob.createUser({username: 'bob' + suffix, email: `bob${suffix}@example.com`, password: 'Passw0rd!bob'});
    check(a.id && b.id && a.id !== b.id, 'users have distinct ids');
    check(a.password === undefined || a.password === '', 'a user never carries its password');

    step = 'log in';
    const me = await alice.login('alice' + suffix, 'Passw0rd!alice');
    await bob.login('bob' + suffix, 'Passw0rd!bob');
    check(me.id === a.id, 'login returns the user');
    check((await alice.getMe()).id === a.id, 'getMe returns the logged-in user');

    step = 'create a team and a channel';
    const team = await alice.createTeam({name: 'team' + suffix, display_name: 'Team ' + suffix, type: 'O'});
    await alice.addToTeam(team.id, b.id);
    const channel = await alice.createChannel({team_id: team.id, name: 'chan' + suffix, display_name: 'Chan ' + suffix, type: 'O'});
    await alice.addToChannel(b.id, channel.id);

    step = 'open sockets';
    const bs = socket(bob);
    const as = socket(alice);
    await waitFor(() => bs.events.some((e) => e.event === 'hello') && as.events.some((e) => e.event === 'hello'), 'hello on both sockets');

    step = 'patch a user and receive user_updated';
    const patched = await alice.patchUser({id: a.id, nickname: 'Ally', position: 'pilot'});
    check(patched.id === a.id && patched.nickname === 'Ally' && patched.position === 'pilot' && patched.username === 'alice' + suffix,
        'patchUser returns the patched user');
    check(patched.update_at > me.update_at, 'update_at moves');
    await waitFor(() => bs.events.some((e) => e.event === 'user_updated' && e.data.user.id === a.id && e.data.user.nickname === 'Ally'),
        'user_updated on bob\'s socket');
    check((await bob.getUser(a.id)).nickname === 'Ally', 'another client reads the new nickname');

    step = 'post and receive posted';
    const first = await alice.createPost({channel_id: channel.id, message: 'hello from alice'});
    await waitFor(() => postedIn(bs.events, channel.id).some((p) => p.id === first.id), 'posted on bob\'s socket');

    step = 'read the channel\'s posts';
    const list = await bob.getPosts(channel.id, 0, 60);
    check(list.order.includes(first.id) && list.posts[first.id].message === 'hello from alice', 'the PostList holds the post');

    step = 'typing';
    as.ws.userTyping(channel.id, '');
    await waitFor(() => bs.events.some((e) => e.event === 'typing' && e.data.user_id === a.id), 'typing on bob\'s socket');

    step = 'drop the socket while posts are made, then reconnect';
    const seenBefore = postedIn(bs.events, channel.id).length;
    bs.ws.close(); // WebSocketClient keeps its connection id and sequence for the reconnect
    const missed = [];
    for (let i = 0; i < 5; i++) {
        missed.push((await alice.createPost({channel_id: channel.id, message: 'missed ' + i})).id);
    }
    bs.ws.initialize(bob.getWebSocketUrl().replace(/^http/, 'ws'), bob.getToken());
    await waitFor(() => postedIn(bs.events, channel.id).length >= seenBefore + missed.length, 'the missed posts after reconnect');
    const replayed = postedIn(bs.events, channel.id).slice(seenBefore).map((p) => p.id);
    check(JSON.stringify(replayed) === JSON.stringify(missed), `exactly the missed posts in order: got ${replayed}, want ${missed}`);
    check(bs.resyncs.length === 0, 'the server replayed the missed events rather than starting a new connection');

    as.ws.close();
    bs.ws.close();
    console.log('compat: ok');
}

main().then(() => process.exit(0), (err) => {
    console.error(`compat: FAILED at "${step}": ${err && (err.message || err)}` + (err && err.server_error_id ? ` (${err.server_error_id}, status ${err.status_code})` : ''));
    process.exit(1);
});
