// Command mint prints n distinct access tokens, one per line: the claims of
// a template token tokengate issued, each with a jti of its own, signed
// again with the same HS256 secret. bench/load.sh sends them to measure
// Traefik's memory under more distinct tokens than any cache holds.
//
//	mint -n 200000 -secret "$secret" -token "$token" >tokens.txt
package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
)

func main() {
	n := flag.Int("n", 200000, "how many tokens")
	secret := flag.String("secret", "", "the HS256 secret the template token is signed with")
	template := flag.String("token", "", "a token tokengate issued, whose claims are copied")
	flag.Parse()
	parts := strings.Split(*template, ".")
	if len(parts) != 3 || *secret == "" {
		log.Fatal("mint: need -secret and a -token of three segments")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		log.Fatalf("mint: template payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		log.Fatalf("mint: template claims: %v", err)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 0; i < *n; i++ {
		claims["jti"] = fmt.Sprintf("mint-%d", i)
		body, err := json.Marshal(claims)
		if err != nil {
			log.Fatal(err)
		}
		signing := parts[0] + "." + base64.RawURLEncoding.EncodeToString(body)
		mac := hmac.New(sha256.New, []byte(*secret))
		mac.Write([]byte(signing))
		fmt.Fprintf(w, "%s.%s\n", signing, base64.RawURLEncoding.EncodeToString(mac.Sum(nil)))
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}
