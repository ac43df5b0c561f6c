module github.com/tokengate/verifyfloor

go 1.22
