package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sort"
)

// recordFile remembers that file() read content from path, by its hash
// only: the content is usually a secret.
func (c *Config) recordFile(path string, content []byte) {
	if c.files == nil {
		c.files = map[string]string{}
	}
	c.files[path] = fileHash(content)
}

func fileHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ChangedFiles returns, sorted, the paths of the files the config's file()
// calls read (its secrets, usually) that no longer hold what they held when
// it was compiled, or can no longer be read. A reload compiles the config
// again when any did, even if the config file's own bytes are unchanged, so
// a rotated secret file takes effect. Only paths are returned, never what
// the files hold.
func (c *Config) ChangedFiles() []string {
	if c == nil {
		return nil
	}
	var changed []string
	for path, hash := range c.files {
		b, err := os.ReadFile(path)
		if err != nil || fileHash(b) != hash {
			changed = append(changed, path)
		}
	}
	sort.Strings(changed)
	return changed
}
