module github.com/tokengate/noop

go 1.22
