package cluster

import (
	"errors"
	"net"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

// fakeAddrs is a host with fixed interfaces.
type fakeAddrs struct {
	ifaces map[string][]net.Addr // by interface name
	name   string
}

func (f fakeAddrs) interfaceAddrs(name string) ([]net.Addr, error) {
	if name == "" {
		var all []net.Addr
		for _, n := range []string{"lo", "eth0", "eth1"} {
			all = append(all, f.ifaces[n]...)
		}
		return all, nil
	}
	a, ok := f.ifaces[name]
	if !ok {
		return nil, errors.New("no such network interface")
	}
	return a, nil
}

func (f fakeAddrs) hostname() (string, error) {
	if f.name == "" {
		return "", errors.New("no hostname")
	}
	return f.name, nil
}

func ipNet(s string) net.Addr { return &net.IPNet{IP: net.ParseIP(s), Mask: net.CIDRMask(24, 32)} }

func TestHostChoice(t *testing.T) {
	host := fakeAddrs{
		ifaces: map[string][]net.Addr{
			"lo":   {ipNet("127.0.0.1"), ipNet("::1")},
			"eth0": {ipNet("169.254.3.4"), ipNet("fe80::1"), ipNet("10.0.0.5")},
			"eth1": {ipNet("192.168.1.7")},
		},
		name: "chat-1",
	}
	loopbackOnly := fakeAddrs{ifaces: map[string][]net.Addr{"lo": {ipNet("127.0.0.1")}}, name: "box"}
	tests := []struct {
		name string
		s    config.ClusterSettings
		src  fakeAddrs
		want string
		err  bool
	}{
		{"override hostname wins over everything", config.ClusterSettings{OverrideHostname: "node1.example.com", AdvertiseAddress: "1.2.3.4", UseIPAddress: true}, host, "node1.example.com", false},
		{"advertise address is what peers dial", config.ClusterSettings{AdvertiseAddress: "203.0.113.9", BindAddress: "10.0.0.5", UseIPAddress: true}, host, "203.0.113.9", false},
		{"a specific bind address wins over detection (loopback demo)", config.ClusterSettings{BindAddress: "127.0.0.1", UseIPAddress: true}, host, "127.0.0.1", false},
		{"unspecified bind address does not count", config.ClusterSettings{BindAddress: "0.0.0.0", UseIPAddress: true}, host, "10.0.0.5", false},
		{"first non-loopback non-link-local IPv4", config.ClusterSettings{UseIPAddress: true}, host, "10.0.0.5", false},
		{"of the named interface", config.ClusterSettings{UseIPAddress: true, NetworkInterface: "eth1"}, host, "192.168.1.7", false},
		{"an unknown interface is an error", config.ClusterSettings{UseIPAddress: true, NetworkInterface: "wlan9"}, host, "", true},
		{"without UseIPAddress the host name", config.ClusterSettings{UseIPAddress: false}, host, "chat-1", false},
		{"no usable IP falls back to the host name", config.ClusterSettings{UseIPAddress: true}, loopbackOnly, "box", false},
		{"nothing at all is an error", config.ClusterSettings{UseIPAddress: true}, fakeAddrs{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chooseHost(tt.s, tt.src)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("chooseHost = %q, %v; want %q (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestAPIAddress(t *testing.T) {
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	s := config.ClusterSettings{OverrideHostname: "node1.example.com"}
	for listen, want := range map[string]string{
		"127.0.0.1:8065": "127.0.0.1:8065",         // a specific address is dialable as is
		"0.0.0.0:8066":   "node1.example.com:8066", // every interface: the announced host
		"[::]:8067":      "node1.example.com:8067",
	} {
		if got, err := APIAddress(s, tcp(listen)); err != nil || got != want {
			t.Errorf("APIAddress(%s) = %q, %v; want %q", listen, got, err, want)
		}
	}
}
