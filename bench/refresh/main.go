// Command refresh measures the token service's refresh (and login) rate
// through Traefik: each of -c workers logs in once, and once all have, the
// clock starts and each refreshes in a loop for -d; with -rotate it
// follows the rotated refresh token, as a client must. It prints
// "<successes/s> <failures>".
//
//	go run ./bench/refresh -url http://127.0.0.1:8080 -host refresh.bench -c 16 -d 5s [-rotate] [-login]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// poster sends a JSON body with POST and decodes the answer.
type poster func(path, body string) (map[string]any, int, error)

// loginWithBackoff logs in, waiting a second after each 429: more
// simultaneous logins of one login than the throttle's free attempts get
// 429s, and a client backs off.
func loginWithBackoff(post poster, body string, deadline time.Time) (map[string]any, int, error) {
	out, code, err := post("/token", body)
	for code == http.StatusTooManyRequests && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		out, code, err = post("/token", body)
	}
	return out, code, err
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "Traefik's entrypoint")
	host := flag.String("host", "", "Host header (the router)")
	workers := flag.Int("c", 16, "concurrent clients")
	duration := flag.Duration("d", 5*time.Second, "how long to run")
	rotate := flag.Bool("rotate", false, "use the refresh token each answer returns")
	loginOnly := flag.Bool("login", false, "measure logins instead of refreshes")
	user := flag.String("user", "alice", "login (password: <login>-pass)")
	flag.Parse()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers}, Timeout: 10 * time.Second}
	post := func(path, body string) (map[string]any, int, error) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, *url+path, bytes.NewBufferString(body))
		if err != nil {
			return nil, 0, err
		}
		req.Host = *host
		resp, err := client.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, resp.StatusCode, err
		}
		var out map[string]any
		_ = json.Unmarshal(data, &out)
		return out, resp.StatusCode, nil
	}
	loginBody := fmt.Sprintf(`{"login":%q,"password":%q}`, *user, *user+"-pass")

	// Every client logs in first (more simultaneous logins of one login
	// than the throttle's free attempts wait out their 429s); the clock
	// starts once all have, so that the rate counts only the measured
	// loop, whoever waited.
	var ok, failed int64
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	var deadline time.Time // written before start is closed
	for i := 0; i < *workers; i++ {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, code, err := loginWithBackoff(post, loginBody, time.Now().Add(time.Minute))
			ready.Done()
			<-start
			if err != nil || code != http.StatusCreated {
				log.Printf("login: %d %v %v", code, err, out)
				atomic.AddInt64(&failed, 1)
				return
			}
			refresh, _ := out["refreshToken"].(string)
			for time.Now().Before(deadline) {
				path, body, want := "/token/refresh", fmt.Sprintf(`{"refreshToken":%q}`, refresh), http.StatusCreated
				if *loginOnly {
					path, body = "/token", loginBody
				}
				out, code, err := post(path, body)
				if err != nil || code != want {
					atomic.AddInt64(&failed, 1)
					continue
				}
				atomic.AddInt64(&ok, 1)
				if next, _ := out["refreshToken"].(string); *rotate && next != "" {
					refresh = next
				}
			}
		}()
	}
	ready.Wait()
	deadline = time.Now().Add(*duration)
	close(start)
	wg.Wait()
	fmt.Printf("%.0f %d\n", float64(ok)/duration.Seconds(), failed)
	if ok == 0 {
		os.Exit(1)
	}
}
