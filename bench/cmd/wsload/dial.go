package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seed331fb32b/chorus/bench/internal/wsframe"
)

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (include/uapi/
// linux/in.h): bind() to a source address without reserving a port, so the
// port is chosen at connect() per destination and one source address is
// not limited to one ephemeral range across all destinations.
const ipBindAddressNoPort = 24

// wsConn is one open WebSocket. r holds bytes already read past the
// handshake.
type wsConn struct {
	c net.Conn
	r *bufio.Reader
}

// dialAll opens o.conns WebSockets with at most o.dialConc handshakes in
// flight. It stops early when ctx ends or when failures exceed
// o.maxErrRate of the total, and returns the open sockets, the number of
// failures and the first failure.
func dialAll(ctx context.Context, o options) ([]*wsConn, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // guards conns, errs, firstErr
		conns    = make([]*wsConn, 0, o.conns)
		errs     int
		firstErr error
	)
	maxErrs := int(o.maxErrRate*float64(o.conns)) + 1
	sem := make(chan struct{}, o.dialConc)
	var wg sync.WaitGroup
	for i := 0; i < o.conns && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(src net.IP) {
			defer func() { <-sem; wg.Done() }()
			c, err := dial(ctx, o, src)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				if firstErr == nil {
					firstErr = err
				}
				if errs >= maxErrs {
					cancel()
				}
				return
			}
			conns = append(conns, c)
		}(o.sources[i%len(o.sources)])
	}
	wg.Wait()
	return conns, errs, firstErr
}

// dial opens one WebSocket from source address src.
func dial(ctx context.Context, o options, src net.IP) (*wsConn, error) {
	d := net.Dialer{
		Timeout:   o.opTimeout,
		LocalAddr: &net.TCPAddr{IP: src},
		Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			})
			return errors.Join(err, serr)
		},
	}
	c, err := d.DialContext(ctx, "tcp", o.url.Host)
	if err != nil {
		return nil, fmt.Errorf("dialing %s from %s: %w", o.url.Host, src, err)
	}
	_ = c.SetDeadline(time.Now().Add(o.opTimeout))
	r, err := handshake(c, o)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return &wsConn{c: c, r: r}, nil
}

// handshake sends the opening handshake of RFC 6455 §4.1 and checks the
// server's 101 answer and its accept key.
func handshake(c net.Conn, o options) (*bufio.Reader, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	path := o.url.RequestURI()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + o.url.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return nil, fmt.Errorf("sending handshake: %w", err)
	}
	// A small reader: the answer is a few hundred bytes, and this one stays
	// with the socket for the echoes.
	r := bufio.NewReaderSize(c, 1024)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return nil, fmt.Errorf("reading handshake answer: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		var body bytes.Buffer
		_, _ = body.ReadFrom(http.MaxBytesReader(nil, resp.Body, 200))
		return nil, fmt.Errorf("handshake answered %s: %s", resp.Status, strings.TrimSpace(body.String()))
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsframe.AcceptKey(key) {
		return nil, fmt.Errorf("handshake: Sec-WebSocket-Accept %q does not match the key", got)
	}
	return r, nil
}

// closeAll closes every socket (a TCP FIN, as a vanishing client does).
func closeAll(conns []*wsConn) {
	for _, c := range conns {
		_ = c.c.Close()
	}
}
