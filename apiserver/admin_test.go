package apiserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/apiserver"
)

func TestAdminKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want, err string
	}{
		{name: "unset", value: "", want: ""},
		{name: "set", value: "admin-key-123", want: "admin-key-123"},
		{name: "too short", value: "short", err: "CRUNCH_ADMIN_KEY must be at least 8 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, api, err := apiserver.ConfigFromEnv(env(map[string]string{"CRUNCH_ADMIN_KEY": tt.value}))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, api.AdminKey)
		})
	}
}
