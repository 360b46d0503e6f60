// Package model holds trustgate's resources — REST APIs and their resources,
// methods and integrations, deployments, stages, custom domain names, API
// mappings, certificates, buckets and objects — as plain values, with the
// store keys they live under and their validation. It does no I/O.
//
// The shapes follow Amazon API Gateway's own model; the management API maps
// them to the v1 and v2 wire forms, and the data plane compiles them into a
// snapshot. Every value is stored as JSON under one key (keys.go).
package model
