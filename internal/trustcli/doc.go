// Package trustcli implements `trustgate truststore lint` and
// `trustgate truststore check` on top of package truststore, so the command
// line judges bundles and client certificates exactly as the management API
// and the data plane do.
//
// Both commands take their arguments and output streams as parameters and
// return an exit status (0 fine, 1 problems found, 2 usage or unreadable
// input); they keep no state and never print PEM data or keys. Reading
// s3:// URIs is delegated to a Fetcher supplied by the app.
package trustcli
