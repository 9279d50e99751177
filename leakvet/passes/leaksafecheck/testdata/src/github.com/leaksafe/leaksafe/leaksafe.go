// Package leaksafe is the part of github.com/leaksafe/leaksafe's API that the tests call.
package leaksafe

import (
	"context"
	"iter"
)

type Source[T any] func(done <-chan struct{}) (out <-chan T, terminated <-chan struct{})

func Range[T any](done <-chan struct{}, src Source[T]) iter.Seq[T] { return nil }

func Generate[T any](done <-chan struct{}, values ...T) (out <-chan T, terminated <-chan struct{}) {
	return nil, nil
}

func Map[T, U any](done <-chan struct{}, in <-chan T, fn func(T) U) (
	out <-chan U, terminated <-chan struct{},
) {
	return nil, nil
}

func All(signals ...<-chan struct{}) <-chan struct{} { return nil }

type Group struct{}

func NewGroup(parent <-chan struct{}) *Group                        { return nil }
func NewGroupContext(ctx context.Context) (*Group, context.Context) { return nil, nil }
func (g *Group) Go(fn func(done <-chan struct{}) error)             {}
func (g *Group) Wait() error                                        { return nil }
