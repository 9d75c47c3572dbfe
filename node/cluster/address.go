package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/seed331fb32b/chorus/node/config"
)

// Host returns the address a node writes to its ClusterDiscovery row, the
// one its peers dial (with ClusterSettings.GossipPort), chosen as
// Mattermost does, with one refinement:
//
//  1. OverrideHostname, if set;
//  2. else AdvertiseAddress, or BindAddress when it names one address:
//     gossip answers only there, so a detected address would be
//     unreachable (Mattermost writes the detected one regardless, which
//     fails for a node bound to loopback, as the demo's are);
//  3. else, with UseIPAddress, the first IPv4 address of NetworkInterface
//     (of any interface when empty) that is neither loopback nor
//     link-local, Mattermost's GetServerIPAddress;
//  4. else, or when no such address exists, os.Hostname().
func Host(s config.ClusterSettings) (string, error) {
	return chooseHost(s, systemAddrs{})
}

// addrSource lists a host's addresses; tests replace it.
type addrSource interface {
	// interfaceAddrs returns the addresses of the interface named name,
	// or of every interface when name is "".
	interfaceAddrs(name string) ([]net.Addr, error)
	hostname() (string, error)
}

// systemAddrs is the host's real interfaces.
type systemAddrs struct{}

func (systemAddrs) interfaceAddrs(name string) ([]net.Addr, error) {
	if name == "" {
		return net.InterfaceAddrs()
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	return ifc.Addrs()
}

func (systemAddrs) hostname() (string, error) { return os.Hostname() }

func chooseHost(s config.ClusterSettings, src addrSource) (string, error) {
	switch {
	case s.OverrideHostname != "":
		return s.OverrideHostname, nil
	case s.AdvertiseAddress != "":
		return s.AdvertiseAddress, nil
	case specificIP(s.BindAddress):
		return s.BindAddress, nil
	}
	if s.UseIPAddress {
		addrs, err := src.interfaceAddrs(s.NetworkInterface)
		if err != nil && s.NetworkInterface != "" {
			return "", fmt.Errorf("cluster: ClusterSettings.NetworkInterface %q: %w", s.NetworkInterface, err)
		}
		for _, a := range addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			if ip4 := ip.To4(); ip4 != nil && !ip4.IsLoopback() && !ip4.IsLinkLocalUnicast() {
				return ip4.String(), nil
			}
		}
	}
	name, err := src.hostname()
	if err != nil || name == "" {
		return "", errors.Join(errors.New("cluster: no address to announce: set ClusterSettings.OverrideHostname or AdvertiseAddress"), err)
	}
	return name, nil
}

// specificIP reports whether addr is one IP address, not empty and not
// the unspecified 0.0.0.0 or ::.
func specificIP(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && !ip.IsUnspecified()
}

// APIAddress returns the host:port the node announces as its HTTP API
// (the gossip contract's "api", what the front door proxies to), given
// the address its HTTP listener got: the listener's own IP when it is a
// specific one, else the node's [Host] (a listener on every interface,
// ":8065", has no address another host can dial).
func APIAddress(s config.ClusterSettings, listen net.Addr) (string, error) {
	host, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return "", fmt.Errorf("cluster: HTTP listener address %q: %w", listen, err)
	}
	if !specificIP(host) {
		if host, err = Host(s); err != nil {
			return "", err
		}
	}
	return net.JoinHostPort(host, port), nil
}
