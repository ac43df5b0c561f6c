module github.com/tokengate/tokengate/interp

go 1.22.0

require (
	github.com/mitchellh/mapstructure v1.5.1-0.20231216201459-8508981c8b6c
	github.com/traefik/paerser v0.2.2
	github.com/traefik/yaegi v0.16.1
	gopkg.in/yaml.v3 v3.0.1
)

require github.com/BurntSushi/toml v1.4.0 // indirect
