package ws

import (
	"context"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
)

// socket is one upgraded WebSocket. Its reader is the ServeHTTP goroutine
// that upgraded it; its writer, started once it is attached to a conn,
// drains that conn's queue.
type socket struct {
	ws         *websocket.Conn
	ctx        context.Context // ends when the socket closes
	cancel     context.CancelFunc
	closed     chan struct{} // closed by close
	closeOnce  sync.Once
	writerDone chan struct{} // closed when the writer has exited (or was never started)

	// Whoever writes data frames: the reader before the writer starts,
	// then the writer.
	writeDeadline time.Time // the write deadline last set

	// Reader goroutine only (the writer must not read them: info is set
	// after the writer starts).
	conn          *conn    // attached connection; nil until authenticated
	info          ConnInfo // what the ActionHandler is told
	writerStarted bool
	wantID        string // connection_id the client asked to resume, or ""
	wantSeq       int64  // its sequence_number
}

// newSocket wraps ws; it closes when the Hub does.
func (h *Hub) newSocket(ws *websocket.Conn, wantID string, wantSeq int64) *socket {
	ctx, cancel := context.WithCancel(h.ctx)
	s := &socket{
		ws:         ws,
		ctx:        ctx,
		cancel:     cancel,
		closed:     make(chan struct{}),
		writerDone: make(chan struct{}),
		wantID:     wantID,
		wantSeq:    wantSeq,
	}
	context.AfterFunc(ctx, s.close)
	return s
}

// close ends the socket at once, without a close frame: the reader and
// the writer fail and exit. It may be called any number of times, from
// any goroutine.
func (s *socket) close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.cancel()
		_ = s.ws.Close()
	})
}

// closeWith sends a close frame with code and text (waiting at most a
// second), then closes.
func (s *socket) closeWith(code int, text string) {
	_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text),
		time.Now().Add(time.Second))
	s.close()
}

// serveSocket reads s's frames until it closes, then detaches it. It runs
// on the ServeHTTP goroutine.
func (h *Hub) serveSocket(s *socket) {
	defer h.endSocket(s)
	s.ws.SetReadLimit(h.cfg.ReadLimit)
	s.ws.SetPongHandler(func(string) error {
		if s.conn != nil {
			return s.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
		}
		return nil
	})
	if s.conn != nil {
		_ = s.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	} else {
		// Not authenticated: a challenge must come within AuthTimeout,
		// whatever else the client sends meanwhile.
		_ = s.ws.SetReadDeadline(time.Now().Add(h.cfg.AuthTimeout))
	}
	for {
		typ, data, err := s.ws.ReadMessage()
		if err != nil {
			h.log.Debug("WebSocket read ended", zap.String("user_id", s.info.UserID),
				zap.String("connection_id", s.info.ConnectionID), zap.Error(err))
			return
		}
		if typ != websocket.TextMessage {
			// Mattermost reads binary frames as msgpack; Chorus speaks JSON only.
			s.closeWith(websocket.CloseUnsupportedData, "binary frames are not supported")
			return
		}
		if s.conn != nil {
			_ = s.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
		}
		req, err := DecodeRequest(data)
		if err != nil {
			// Mattermost closes the socket on a frame it cannot decode.
			s.closeWith(websocket.CloseInvalidFramePayloadData, "invalid request")
			return
		}
		if !h.route(s, req) {
			return
		}
	}
}

// endSocket closes s, waits for its writer, then detaches it from its conn
// (which stays, resumable, until InactiveTimeout). Detaching only after
// the writer exited keeps the rule that whoever finds no socket on a conn
// owns its seq and ring.
func (h *Hub) endSocket(s *socket) {
	s.close()
	if !s.writerStarted {
		close(s.writerDone)
	}
	<-s.writerDone
	if c := s.conn; c != nil {
		h.mu.Lock()
		if c.sock == s {
			c.sock = nil
			c.inactiveSince = h.now()
			h.addActiveLocked(c.userID, -1)
		}
		h.mu.Unlock()
	}
}

// preamble is what a writer sends before draining its conn's queue.
type preamble struct {
	hello      *frame // a hello, written as the next event (seq 0 after a reset)
	replay     bool   // replay the conn's ring from replayFrom
	replayFrom int64
}

// startWriter starts s's writer on c. Only the holder of c.attachMu, after
// attaching s to c, calls it.
func (h *Hub) startWriter(s *socket, c *conn, pre preamble) {
	s.writerStarted = true
	go h.writeLoop(s, c, pre)
}

// writeLoop writes the preamble, then c's queue, and pings, until s
// closes or a write fails. It owns c.seq and c.dead meanwhile.
func (h *Hub) writeLoop(s *socket, c *conn, pre preamble) {
	defer close(s.writerDone)
	defer s.close()
	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	if pre.hello != nil && !h.writeEvent(s, c, pre.hello) {
		return
	}
	if pre.replay {
		ok := true
		c.dead.since(pre.replayFrom, func(e sentEvent) bool {
			ok = h.writeFrame(s, e.f, e.seq)
			return ok
		})
		if !ok {
			return
		}
	}
	for {
		select {
		case <-s.closed:
			return
		case f := <-c.send:
			if !h.writeQueued(s, c, f) {
				return
			}
		case <-ping.C:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WriteWait)); err != nil {
				return
			}
		}
	}
}

// writeQueued writes f, taken from c's queue, and, when more frames wait
// there, those too (up to maxCorkBytes) in one write to the kernel (see
// cork.go).
func (h *Hub) writeQueued(s *socket, c *conn, f *frame) bool {
	cc, _ := s.ws.NetConn().(*corkConn)
	if cc == nil || len(c.send) == 0 {
		return h.writeOne(s, c, f)
	}
	cc.cork()
	for {
		if !h.writeOne(s, c, f) {
			_ = cc.uncork()
			return false
		}
		if len(c.send) == 0 || cc.buffered() >= maxCorkBytes {
			break
		}
		f = <-c.send // only this goroutine receives: a frame is there
	}
	if err := cc.uncork(); err != nil {
		h.log.Debug("WebSocket write failed", zap.Error(err))
		return false
	}
	return true
}

// writeOne writes f, a reply (no seq) or an event.
func (h *Hub) writeOne(s *socket, c *conn, f *frame) bool {
	if f.reply {
		return h.writeFrame(s, f, 0)
	}
	return h.writeEvent(s, c, f)
}

// writeEvent gives f c's next seq, keeps it in c's ring (before writing,
// so an event lost in a failed write is replayed on resume) and writes it.
func (h *Hub) writeEvent(s *socket, c *conn, f *frame) bool {
	seq := c.seq
	c.seq++
	c.dead.push(seq, f)
	return h.writeFrame(s, f, seq)
}

// wireBufs recycles the buffers frames are assembled in, so a socket holds
// no buffer between writes and a write allocates nothing.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooledBuf is the largest buffer returned to wireBufs.
const maxPooledBuf = 1 << 20

// writeFrame writes f with seq as one text message.
func (h *Hub) writeFrame(s *socket, f *frame, seq int64) bool {
	bp := wireBufs.Get().(*[]byte)
	buf := f.appendWire((*bp)[:0], seq)
	// Moving the deadline costs a runtime timer update: do it when it has
	// drifted by a tenth of WriteWait, not on every write.
	if d := time.Now().Add(h.cfg.WriteWait); d.Sub(s.writeDeadline) > h.cfg.WriteWait/10 {
		_ = s.ws.SetWriteDeadline(d)
		s.writeDeadline = d
	}
	err := s.ws.WriteMessage(websocket.TextMessage, buf)
	if cap(buf) <= maxPooledBuf {
		*bp = buf
		wireBufs.Put(bp)
	}
	if err != nil {
		h.log.Debug("WebSocket write failed", zap.Error(err)) // s.info is the reader's
		return false
	}
	return true
}
