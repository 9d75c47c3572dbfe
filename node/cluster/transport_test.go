package cluster

import (
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// cutTransport wraps a node's real gossip transport so a test can cut the
// node off (every packet and stream in and out dropped, as a pulled cable
// would) or lose only its incoming UDP, and restore it.
type cutTransport struct {
	memberlist.NodeAwareTransport

	cut       atomic.Bool // drop everything
	dropUDPIn atomic.Bool // drop incoming packets only

	packets chan *memberlist.Packet
	streams chan net.Conn
	closing chan struct{} // closed when Shutdown starts: stop handing over
	stop    chan struct{} // closed when the inner transport is down
}

var errCut = errors.New("test: node cut off")

func newCutTransport(inner memberlist.NodeAwareTransport) *cutTransport {
	t := &cutTransport{
		NodeAwareTransport: inner,
		packets:            make(chan *memberlist.Packet),
		streams:            make(chan net.Conn),
		closing:            make(chan struct{}),
		stop:               make(chan struct{}),
	}
	go t.pumpPackets()
	go t.pumpStreams()
	return t
}

// pumpPackets hands the inner transport's packets over unless dropped. It
// drains the inner channel until the inner transport is down, since its
// listener blocks on that channel.
func (t *cutTransport) pumpPackets() {
	for {
		select {
		case <-t.stop:
			return
		case p := <-t.NodeAwareTransport.PacketCh():
			if t.cut.Load() || t.dropUDPIn.Load() {
				continue
			}
			select {
			case t.packets <- p:
			case <-t.closing:
			}
		}
	}
}

func (t *cutTransport) pumpStreams() {
	for {
		select {
		case <-t.stop:
			return
		case c := <-t.NodeAwareTransport.StreamCh():
			if t.cut.Load() {
				_ = c.Close()
				continue
			}
			select {
			case t.streams <- c:
			case <-t.closing:
				_ = c.Close()
			}
		}
	}
}

func (t *cutTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }
func (t *cutTransport) StreamCh() <-chan net.Conn           { return t.streams }

func (t *cutTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.cut.Load() {
		return time.Now(), nil // lost on the way, as UDP is
	}
	return t.NodeAwareTransport.WriteTo(b, addr)
}

func (t *cutTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.cut.Load() {
		return time.Now(), nil
	}
	return t.NodeAwareTransport.WriteToAddress(b, a)
}

func (t *cutTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.cut.Load() {
		return nil, errCut
	}
	return t.NodeAwareTransport.DialTimeout(addr, timeout)
}

func (t *cutTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.cut.Load() {
		return nil, errCut
	}
	return t.NodeAwareTransport.DialAddressTimeout(a, timeout)
}

func (t *cutTransport) Shutdown() error {
	close(t.closing)
	err := t.NodeAwareTransport.Shutdown()
	close(t.stop)
	return err
}

var _ memberlist.NodeAwareTransport = (*cutTransport)(nil)
