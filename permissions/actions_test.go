package permissions_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/permissions"
)

func TestParseAction(t *testing.T) {
	tests := []struct {
		in      string
		want    permissions.Action
		wantErr bool
	}{
		{in: "*", want: permissions.Any},
		{in: "GetDevice", want: permissions.GetDevice},
		{in: "getdevice", want: permissions.GetDevice},
		{in: " ManageToken ", want: permissions.ManageToken},
		{in: "18", want: permissions.ManageDeviceType},
		{in: "0", want: permissions.Any},
		{in: "GetDeviceState", want: permissions.GetDevice},
		{in: "getdevicestate", want: permissions.GetDevice},
		{in: "19", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "", wantErr: true},
		{in: "GetEverything", wantErr: true},
	}
	for _, test := range tests {
		t.Run(test.in, func(t *testing.T) {
			got, err := permissions.ParseAction(test.in)
			if (err != nil) != test.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, test.wantErr)
			}
			if err == nil && got != test.want {
				t.Fatalf("got %v, want %v", got, test.want)
			}
		})
	}
}

func TestActionTable(t *testing.T) {
	// The ids are DeviceHive's and appear in tokens: they must never move.
	want := "0:* 1:None 2:GetNetwork 3:GetDevice 4:GetDeviceNotification 5:GetDeviceCommand " +
		"6:RegisterDevice 7:CreateDeviceCommand 8:UpdateDeviceCommand 9:CreateDeviceNotification " +
		"10:GetCurrentUser 11:UpdateCurrentUser 12:ManageUser 13:ManageConfiguration 14:ManageNetwork " +
		"15:ManageToken 16:ManagePlugin 17:GetDeviceType 18:ManageDeviceType"
	var got []string
	for a := permissions.Action(0); a.Valid(); a++ {
		got = append(got, fmt.Sprintf("%d:%s", int64(a), a))
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("table = %s", strings.Join(got, " "))
	}
	if s := permissions.Action(42).String(); s != "42" {
		t.Fatalf("unknown action prints %q", s)
	}
}

func TestParseActions(t *testing.T) {
	got, err := permissions.ParseActions([]string{"GetDevice", "2", "GetDevice"})
	if err != nil || names(got) != "GetNetwork GetDevice" {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, _ := permissions.ParseActions([]string{"GetDevice", "*"}); names(got) != "*" {
		t.Fatalf("* must collapse the list, got %v", got)
	}
	if _, err := permissions.ParseActions([]string{"GetDevice", "Nope"}); err == nil || !strings.HasPrefix(err.Error(), "[1]: ") {
		t.Fatalf("error must name the index: %v", err)
	}
}

func TestRoleActions(t *testing.T) {
	if got := names(permissions.ClientActions()); got != "GetNetwork GetDevice GetDeviceNotification GetDeviceCommand RegisterDevice CreateDeviceCommand UpdateDeviceCommand CreateDeviceNotification GetCurrentUser UpdateCurrentUser ManageToken ManagePlugin GetDeviceType" {
		t.Fatalf("client actions = %s", got)
	}
	if got := names(permissions.AdminActions()); got != "*" {
		t.Fatalf("admin actions = %s", got)
	}
}

func TestAllows(t *testing.T) {
	tests := []struct {
		desc    string
		granted []permissions.Action
		want    permissions.Action
		ok      bool
	}{
		{desc: "any grants all", granted: []permissions.Action{permissions.Any}, want: permissions.ManageUser, ok: true},
		{desc: "listed", granted: []permissions.Action{permissions.GetDevice}, want: permissions.GetDevice, ok: true},
		{desc: "not listed", granted: []permissions.Action{permissions.GetDevice}, want: permissions.ManageNetwork},
		{desc: "empty grants none", want: permissions.GetDevice},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if got := permissions.Allows(test.granted, test.want); got != test.ok {
				t.Fatalf("Allows = %v", got)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	all := []string{"*"}
	tests := []struct {
		desc string
		a, b []string
		want string
	}{
		{desc: "all and list", a: all, b: []string{"1", "2"}, want: "1,2"},
		{desc: "list and all", a: []string{"3"}, b: all, want: "3"},
		{desc: "overlap", a: []string{"1", "2", "2"}, b: []string{"2", "3"}, want: "2"},
		{desc: "disjoint", a: []string{"1"}, b: []string{"2"}, want: ""},
		{desc: "nil grants none", a: nil, b: all, want: ""},
		{desc: "both all", a: all, b: all, want: "*"},
		{desc: "repeats in both", a: []string{"4", "1", "4"}, b: []string{"1", "4", "1"}, want: "4,1"},
	}
	for _, test := range tests {
		t.Run(test.desc, func(t *testing.T) {
			if got := strings.Join(permissions.IntersectIDs(test.a, test.b), ","); got != test.want {
				t.Fatalf("IntersectIDs = %q, want %q", got, test.want)
			}
		})
	}
	if permissions.ContainsID(nil, "1") || !permissions.ContainsID(all, "9") || !permissions.ContainsID([]string{"9"}, "9") {
		t.Fatal("ContainsID")
	}
	acts := permissions.IntersectActions([]permissions.Action{permissions.Any}, []permissions.Action{permissions.GetDevice})
	if names(acts) != "GetDevice" {
		t.Fatalf("IntersectActions(*) = %v", acts)
	}
	acts = permissions.IntersectActions(permissions.ClientActions(), []permissions.Action{permissions.ManageUser, permissions.GetDevice})
	if names(acts) != "GetDevice" {
		t.Fatalf("IntersectActions = %v", acts)
	}
}

func names(actions []permissions.Action) string {
	return strings.Join(permissions.Names(actions), " ")
}

// TestInterpreterTrapStringerInSlice: under Yaegi, fmt prints a slice of an
// interpreted type with a String method as numbers. Names must not depend
// on fmt.
func TestInterpreterTrapStringerInSlice(t *testing.T) {
	got := names([]permissions.Action{permissions.Any, permissions.ManageToken, permissions.Action(40)})
	if got != "* ManageToken 40" {
		t.Fatalf("Names = %q", got)
	}
}

func TestMask(t *testing.T) {
	all := permissions.Mask([]permissions.Action{permissions.GetDevice, permissions.Any})
	client := permissions.Mask(permissions.ClientActions())
	for a := permissions.Action(0); a.Valid(); a++ {
		if all&(uint32(1)<<uint32(a)) == 0 {
			t.Errorf("* must set %s", a.String())
		}
		if got, want := client&(uint32(1)<<uint32(a)) != 0, permissions.Allows(permissions.ClientActions(), a) && a != permissions.Any; got != want {
			t.Errorf("client mask for %s = %v, want %v", a.String(), got, want)
		}
	}
	if permissions.Mask(nil) != 0 {
		t.Error("no actions, no bits")
	}
}

// TestMaskNames: MaskNames is Mask and Names joined by ",".
func TestMaskNames(t *testing.T) {
	for _, actions := range [][]permissions.Action{
		nil,
		{},
		{permissions.GetDevice},
		{permissions.GetDevice, permissions.Any},
		permissions.ClientActions(),
		{permissions.MaxAction, permissions.Action(40), permissions.Action(-1), permissions.GetDevice},
	} {
		mask, joined := permissions.MaskNames(actions)
		if want := permissions.Mask(actions); mask != want {
			t.Errorf("MaskNames(%q) mask = %b, want %b", joined, mask, want)
		}
		if want := strings.Join(permissions.Names(actions), ","); joined != want {
			t.Errorf("MaskNames names = %q, want %q", joined, want)
		}
	}
}

// TestNormalizeAndIntersectByMask: Normalize and IntersectActions, which
// go through bit masks, agree with sorting, de-duplicating and scanning
// (the naive reference below), for lists of every size drawn from the
// table, Any included.
func TestNormalizeAndIntersectByMask(t *testing.T) {
	lists := [][]permissions.Action{nil, {}, {permissions.Any}, {3, 3, 1}, {18, 1, 18, 2}, permissions.ClientActions()}
	seed := uint32(1)
	for n := 0; n < 200; n++ {
		var list []permissions.Action
		for k := 0; k < n%12; k++ {
			seed = seed*1664525 + 1013904223
			list = append(list, permissions.Action(seed>>8%uint32(permissions.MaxAction+1)))
		}
		lists = append(lists, list)
	}
	for i, a := range lists {
		if got, want := permissions.Normalize(a), naiveNormalize(a); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Normalize(%v) = %v, want %v", a, got, want)
		}
		b := lists[(i*7+3)%len(lists)]
		if got, want := permissions.IntersectActions(a, b), naiveIntersect(a, b); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("IntersectActions(%v, %v) = %v, want %v", a, b, got, want)
		}
	}
}

func naiveNormalize(actions []permissions.Action) []permissions.Action {
	out := []permissions.Action{}
	for a := permissions.Action(0); a <= permissions.MaxAction; a++ {
		for _, x := range actions {
			if x == permissions.Any {
				return []permissions.Action{permissions.Any}
			}
			if x == a {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

func naiveIntersect(a, b []permissions.Action) []permissions.Action {
	var out []permissions.Action
	for _, x := range a {
		if permissions.Allows(b, x) {
			out = append(out, x)
		}
	}
	switch {
	case permissions.Allows(a, permissions.Any):
		out = b
	case permissions.Allows(b, permissions.Any):
		out = a
	}
	return naiveNormalize(out)
}
