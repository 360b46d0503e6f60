package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config is trustgate's static configuration: flags and TRUSTGATE_* env.
type Config struct {
	DataDir         string
	Listen          string
	AdminListen     string
	DNSListen       string
	Region          string
	AccountID       string
	PublicDomain    string
	PublicIP        string
	Store           string
	EtcdEndpoints   string
	EtcdPrefix      string
	S3              string
	AccessLog       string // "stdout", "off", or a file path
	LogLevel        string
	ShutdownTimeout time.Duration
}

// Default returns the configuration of DESIGN §2.
func Default() Config {
	return Config{
		DataDir:         "./trustgate-data",
		Listen:          ":8443",
		AdminListen:     "127.0.0.1:4566",
		Region:          "us-east-1",
		AccountID:       "000000000000",
		PublicDomain:    "localhost",
		PublicIP:        "127.0.0.1",
		Store:           "bolt",
		EtcdPrefix:      "/trustgate/",
		S3:              "embedded",
		AccessLog:       "stdout",
		LogLevel:        "info",
		ShutdownTimeout: 30 * time.Second,
	}
}

// Validate checks the configuration without I/O and names the flag to fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("data-dir", "must not be empty")
	}
	for flag, addr := range map[string]string{"listen": c.Listen, "admin-listen": c.AdminListen, "dns-listen": c.DNSListen} {
		if addr == "" && flag == "dns-listen" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(flag, "%q is not host:port", addr)
		}
	}
	if !isRegion(c.Region) {
		bad("region", "%q is not a region name like us-east-1", c.Region)
	}
	if len(c.AccountID) != 12 || strings.Trim(c.AccountID, "0123456789") != "" {
		bad("account-id", "%q is not a 12-digit account id", c.AccountID)
	}
	if c.PublicDomain == "" || strings.ContainsAny(c.PublicDomain, " /:*") {
		bad("public-domain", "%q is not a DNS name", c.PublicDomain)
	}
	if net.ParseIP(c.PublicIP) == nil {
		bad("public-ip", "%q is not an IP address", c.PublicIP)
	}
	switch c.Store {
	case "bolt":
	case "etcd":
		if c.EtcdEndpoints == "" {
			bad("etcd-endpoints", "required with --store etcd")
		}
		if !strings.HasPrefix(c.EtcdPrefix, "/") || !strings.HasSuffix(c.EtcdPrefix, "/") {
			bad("etcd-prefix", "%q must start and end with /", c.EtcdPrefix)
		}
	default:
		bad("store", "%q is neither bolt nor etcd", c.Store)
	}
	if c.S3 != "embedded" {
		u, err := url.Parse(c.S3)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("s3", "%q is neither embedded nor an http(s) URL", c.S3)
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.AccessLog == "" {
		bad("access-log", "must be stdout, off or a file path")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive")
	}
	return errors.Join(errs...)
}

func isRegion(r string) bool {
	parts := strings.Split(r, "-")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return false
		}
	}
	return true
}
