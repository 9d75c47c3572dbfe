package store_test

import (
	"testing"

	"github.com/seed331fb32b/chorus/node/store/storetest"
)

// TestSuite runs the one store suite, node/store/storetest, against every
// driver, each function on a fresh database.
func TestSuite(t *testing.T) {
	for _, driver := range storetest.Drivers() {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			for _, c := range storetest.All() {
				t.Run(c.Name, func(t *testing.T) {
					c.Run(t, storetest.Open(t, driver))
				})
			}
		})
	}
}
