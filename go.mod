module github.com/tokengate/tokengate

go 1.22

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/patrickmn/go-cache v2.1.0+incompatible
)
