module github.com/tokengate/lookup

go 1.22
