package dnssec

import (
	"context"
	"sync"
)

// budget counts the queries one lookup sends over the network, so that
// MaxQueries bounds retries, referrals and NS address lookups too. Sources
// that send several queries per call charge each one to the budget they
// find in the context.
type budget struct {
	mu    sync.Mutex
	used  int
	limit int
}

type budgetKey struct{}

func withBudget(ctx context.Context, b *budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// chargeQuery counts one query against the budget in ctx, if there is one,
// and returns a *LimitError once it is spent.
func chargeQuery(ctx context.Context) error {
	b, ok := ctx.Value(budgetKey{}).(*budget)
	if !ok {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used >= b.limit {
		return &LimitError{Limit: "MaxQueries", Value: b.limit}
	}
	b.used++
	return nil
}

// queryCharger is implemented by Sources that charge each query they
// send to the lookup's budget themselves.
type queryCharger interface {
	chargesQueries()
}
