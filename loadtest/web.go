package main

import "errors"

// defaultWebAddr is where -web serves the live page.
const defaultWebAddr = "127.0.0.1:8080"

// webPage is the live page of -web. (Being written.)
type webPage struct{ observers }

func startWeb(addr string) (*webPage, error) { return nil, errors.New("not yet") }
func (p *webPage) URL() string               { return "" }
func (p *webPage) Close()                    {}
