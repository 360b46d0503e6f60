//go:build !linux

package main

// applyRuntimeSettings is a no-op where the gateway is not measured.
func applyRuntimeSettings() {}
