package trustanchor_test

import (
	"fmt"
	"log"
	"time"

	"github.com/mxclient/mxclient/trustanchor"
)

func ExampleSelect() {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, a := range trustanchor.Select(trustanchor.Embedded(), at) {
		fmt.Println(a.Owner(), a.KeyTag(), a.Source)
	}
	// Output:
	// . 20326 embedded IANA root anchors
	// . 38696 embedded IANA root anchors
}

func ExampleLoad() {
	anchors, err := trustanchor.Load("../testdata/trustanchor/ldns-keygen.key")
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range anchors {
		fmt.Println(a.Owner(), a.KeyTag(), a.Algorithm(), a.Source)
	}
	// Output:
	// example.test. 53212 13 ../testdata/trustanchor/ldns-keygen.key:1
}
