// Package interp loads the tokengate plugin into the Yaegi interpreter the
// way Traefik v3.6.12 does, and tests it there.
//
// It is its own module so that the plugin's go.mod never depends on
// github.com/traefik/yaegi (the plugin catalog rejects plugins that do). The
// plugin is not a module dependency of this one: the tests resolve it from a
// temporary GOPATH whose src/github.com/tokengate/tokengate is the
// repository, vendor/ included, exactly as Traefik resolves a local plugin
// from plugins-local/src/.
//
// Run the tests with: cd interp && go test ./...
package interp
