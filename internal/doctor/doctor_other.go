//go:build !unix

package doctor

// openFilesLimit reports no limit to check: only Unix has RLIMIT_NOFILE.
func openFilesLimit() (limit uint64, ok bool, err error) { return 0, false, nil }
