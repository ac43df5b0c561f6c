package tokengate_test

import (
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate"
)

// readmeKnownMismatches are options whose README row and CreateConfig
// disagree today, with what each side says. fix README (or CreateConfig),
// then delete the entry: the test fails while an entry is no longer needed.
var readmeKnownMismatches = map[string]string{}

// TestREADMEConfigurationTable keeps README.md's "## Configuration" table
// and CreateConfig in step: every option of Config (its json tag names,
// nested with ".", down to fields that are not structs) has a row, every
// row names an option of Config, and each documented default is what
// CreateConfig returns.
//
// How the table is read:
//   - The option cell holds `name` spans. "`a` / `b`" documents several
//     options in one row; a name without a dot after a dotted first name
//     is a sibling of it (`store.redis.username` / `password`).
//     "`identityHeaders.userId` … `.actorId`" is a range: every option
//     from the first to the last, in Config's field order.
//   - The default cell is a literal when it is made only of `value` spans
//     (one per option of the row, separated by ", " or " / ", or one for
//     all): the value must equal CreateConfig's, written as Go prints it
//     (strings as they are, numbers in decimal, true/false).
//   - Any other default is prose about the zero value ("required", "none",
//     "empty", "empty (off)", "none (memory store)", "empty:
//     `accessTokenLifetime`", "system CAs"): CreateConfig must leave the
//     option empty (zero, false, "" or an empty list). Several options
//     with " / " between as many defaults take one each.
func TestREADMEConfigurationTable(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatalf("reading README.md from the package directory: %v", err)
	}
	rows := readmeConfigRows(t, string(data))
	if len(rows) == 0 {
		t.Fatal(`README.md: no option table found under "## Configuration"`)
	}

	order, values := readmeConfigOptions(reflect.ValueOf(*tokengate.CreateConfig()), "")
	documented := map[string]string{} // option -> default cell
	for _, row := range rows {
		names := readmeExpandNames(t, row.options, order)
		defaults := readmeSplitDefaults(row.defaults, len(names))
		for i, name := range names {
			if _, ok := values[name]; !ok {
				t.Errorf("README.md documents %q, which Config does not have (row %q)", name, row.options)
				continue
			}
			if _, dup := documented[name]; dup {
				t.Errorf("README.md documents %q twice", name)
			}
			documented[name] = defaults[i]
		}
	}

	mismatched := map[string]bool{}
	for _, name := range order {
		cell, ok := documented[name]
		if !ok {
			readmeReportf(t, mismatched, name, "Config has %q, but README.md's table does not document it", name)
			continue
		}
		got := values[name]
		if want, literal := readmeLiteral(cell); literal {
			if got.text != want {
				readmeReportf(t, mismatched, name, "%s: README says %q, CreateConfig says %q", name, want, got.text)
			}
		} else if !got.zero {
			readmeReportf(t, mismatched, name, "%s: README says %q (no value), CreateConfig says %q", name, cell, got.text)
		}
	}
	for name, why := range readmeKnownMismatches {
		if !mismatched[name] {
			t.Errorf("readmeKnownMismatches[%q] (%s) no longer mismatches: delete the entry", name, why)
		}
	}
}

// readmeReportf fails the test unless the option is a known mismatch.
func readmeReportf(t *testing.T, mismatched map[string]bool, name, format string, args ...any) {
	t.Helper()
	mismatched[name] = true
	if _, known := readmeKnownMismatches[name]; known {
		t.Logf("known mismatch: "+format, args...)
		return
	}
	t.Errorf(format, args...)
}

type readmeRow struct {
	options, defaults string
}

// readmeConfigRows returns the option and default cells of the first table
// under "## Configuration".
func readmeConfigRows(t *testing.T, readme string) []readmeRow {
	t.Helper()
	var rows []readmeRow
	inSection, inTable := false, false
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "## ") {
			if inSection {
				break
			}
			inSection = strings.TrimSpace(line) == "## Configuration"
			continue
		}
		if !inSection {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			t.Fatalf("README.md: configuration row with fewer than three cells: %q", line)
		}
		option, def := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])
		if option == "option" || strings.Trim(option, "-: ") == "" {
			continue // header and separator
		}
		rows = append(rows, readmeRow{options: option, defaults: def})
	}
	return rows
}

var readmeCode = regexp.MustCompile("`([^`]*)`")

// readmeExpandNames turns an option cell into option names.
func readmeExpandNames(t *testing.T, cell string, order []string) []string {
	t.Helper()
	spans := readmeCode.FindAllStringSubmatch(cell, -1)
	if len(spans) == 0 {
		t.Errorf("README.md: option cell %q names no `option`", cell)
		return nil
	}
	first := spans[0][1]
	parent := ""
	if i := strings.LastIndex(first, "."); i >= 0 {
		parent = first[:i]
	}
	names := []string{first}
	for _, s := range spans[1:] {
		name := s[1]
		switch {
		case strings.HasPrefix(name, "."):
			name = parent + name
		case !strings.Contains(name, ".") && parent != "":
			name = parent + "." + name
		}
		names = append(names, name)
	}
	if !strings.Contains(cell, "…") && !strings.Contains(cell, "...") {
		return names
	}
	if len(names) != 2 {
		t.Errorf("README.md: range %q must name its first and last option", cell)
		return names
	}
	from, to := -1, -1
	for i, name := range order {
		if name == names[0] {
			from = i
		}
		if name == names[1] {
			to = i
		}
	}
	if from < 0 || to < from {
		t.Errorf("README.md: range %q is not a run of Config's options", cell)
		return names
	}
	return append([]string(nil), order[from:to+1]...)
}

// readmeSplitDefaults gives each of n options its default cell.
func readmeSplitDefaults(cell string, n int) []string {
	out := make([]string, n)
	var parts []string
	if n > 1 {
		parts = strings.Split(cell, " / ")
		if len(parts) != n {
			parts = strings.Split(cell, ", ")
			for _, p := range parts {
				if _, literal := readmeLiteral(strings.TrimSpace(p)); !literal {
					parts = nil // prose with a comma: one default for all
					break
				}
			}
		}
	}
	for i := range out {
		out[i] = cell
		if len(parts) == n {
			out[i] = strings.TrimSpace(parts[i])
		}
	}
	return out
}

// readmeLiteral returns the value of a cell that is one `value` span.
func readmeLiteral(cell string) (string, bool) {
	m := readmeCode.FindStringSubmatchIndex(cell)
	if m == nil || m[0] != 0 || m[1] != len(cell) {
		return "", false
	}
	return cell[m[2]:m[3]], true
}

type readmeValue struct {
	text string // as the README writes it
	zero bool
}

// readmeConfigOptions walks a Config: options in field order, named by
// their json tags joined with ".", struct fields expanded, and their values.
func readmeConfigOptions(v reflect.Value, prefix string) ([]string, map[string]readmeValue) {
	var order []string
	values := map[string]readmeValue{}
	typ := v.Type()
	for i := 0; i < typ.NumField(); i++ {
		field := typ.Field(i)
		if field.PkgPath != "" {
			continue // unexported
		}
		name := strings.Split(field.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			name = field.Name
		}
		name = prefix + name
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			subOrder, subValues := readmeConfigOptions(fv, name+".")
			order = append(order, subOrder...)
			for k, sv := range subValues {
				values[k] = sv
			}
			continue
		}
		order = append(order, name)
		values[name] = readmeFormat(fv)
	}
	return order, values
}

func readmeFormat(v reflect.Value) readmeValue {
	kind := v.Kind()
	if kind == reflect.String {
		return readmeValue{text: v.String(), zero: v.String() == ""}
	}
	if kind == reflect.Bool {
		return readmeValue{text: strconv.FormatBool(v.Bool()), zero: !v.Bool()}
	}
	if v.CanInt() {
		return readmeValue{text: strconv.FormatInt(v.Int(), 10), zero: v.Int() == 0}
	}
	if v.CanUint() {
		return readmeValue{text: strconv.FormatUint(v.Uint(), 10), zero: v.Uint() == 0}
	}
	if kind == reflect.Slice || kind == reflect.Map {
		return readmeValue{text: "a list of " + strconv.Itoa(v.Len()), zero: v.Len() == 0}
	}
	return readmeValue{text: kind.String() + " value", zero: v.IsZero()}
}
