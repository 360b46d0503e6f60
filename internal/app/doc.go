// Package app wires trustgate together: it opens the store, the local CA and
// the admin credentials, starts the data plane (edge), the management
// endpoint (awsapi and its services) and the DNS server, and shuts them down
// in order. It is the only package that imports all the others.
package app
