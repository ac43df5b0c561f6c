package store_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
	"github.com/tokengate/tokengate/metrics"
	"github.com/tokengate/tokengate/resp"
	"github.com/tokengate/tokengate/store"
)

// TestRedisRevocationsPaged: Revocations reads the log in pages, from the
// latest At read, and neither skips nor repeats members that share an At
// across a page's end.
func TestRedisRevocationsPaged(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}})
	now := nowMS()
	exp := strconv.FormatInt(now/1000+hour, 10)
	type member struct {
		at   int64
		name string
	}
	var log []member
	add := func(at int64, name string) {
		redistest.Do(t, c, "ZADD", "page:revocations", strconv.FormatInt(at, 10), name)
		log = append(log, member{at, name})
	}
	for _, sid := range []string{"a", "b", "c", "d", "e"} { // more than a page at one At
		add(100, "s|1|"+exp+"|"+sid)
	}
	add(101, "u|2|50|"+exp+"|101")
	add(102, "s|3|"+exp+"|f")
	add(102, "s|3|"+exp+"|g")
	add(103, "s|3|1|expired") // listed by no call, passed by the cursor
	for i := int64(0); i < 7; i++ {
		add(104+i, "s|4|"+exp+"|h"+strconv.FormatInt(i, 10))
	}
	want := func(since int64) []string {
		var names []string
		for _, m := range log {
			if m.at >= since && m.name != "s|3|1|expired" {
				names = append(names, m.name)
			}
		}
		return names
	}
	for _, page := range []int{1, 2, 3, 5, 6, 100} {
		for _, since := range []int64{0, 100, 101, 102, 103, 110, 111} {
			st := store.NewRedis(c, "page:", time.Hour)
			st.SetPage(page)
			list, next := revocations(t, st, since, now)
			names := want(since)
			if len(list) != len(names) {
				t.Fatalf("page %d, since %d: %d revocations %+v, want %d", page, since, len(list), list, len(names))
			}
			for i, r := range list {
				if r.Session != "" && names[i] != "s|"+strconv.FormatInt(r.UserID, 10)+"|"+exp+"|"+r.Session ||
					r.Session == "" && names[i] != "u|2|50|"+exp+"|101" {
					t.Fatalf("page %d, since %d: revocation %d is %+v, want %s", page, since, i, r, names[i])
				}
			}
			wantNext := int64(111)
			if since > 110 {
				wantNext = since
			}
			if next != wantNext {
				t.Fatalf("page %d, since %d: cursor %d, want %d", page, since, next, wantNext)
			}
		}
	}
}

// TestRedisRevocationsPastOneReply: a log of more members than one reply
// may carry (resp.MaxArrayElems elements, two per member) is read whole:
// a fresh replica (cursor 0) syncs instead of failing every time.
//
// Natively about a second. Under the interpreter, about 20 s (decoding
// half a million members), so it is skipped there: TestRedisRevocationsPaged
// runs the same paging under it.
func TestRedisRevocationsPastOneReply(t *testing.T) {
	if metrics.Interpreter() == "yaegi" {
		t.Skip("about 20 s under the interpreter; TestRedisRevocationsPaged covers the paging")
	}
	srv := redistest.Start(t, redistest.Options{})
	c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, Timeout: 30 * time.Second})
	now := nowMS()
	n := resp.MaxArrayElems/2 + 1000
	redistest.Do(t, c, "EVAL", `
for i = 1, tonumber(ARGV[1]) do
  redis.call('ZADD', KEYS[1], i, 's|1|' .. ARGV[2] .. '|sid' .. i)
end
return 1`, "1", "big:revocations", strconv.Itoa(n), strconv.FormatInt(now/1000+hour, 10))
	st := store.NewRedis(c, "big:", time.Hour)
	list, next := revocations(t, st, 0, now)
	if len(list) != n || next != int64(n)+1 {
		t.Fatalf("%d revocations, cursor %d; want %d, cursor %d", len(list), next, n, n+1)
	}
}
