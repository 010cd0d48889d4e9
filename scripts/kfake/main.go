// Command kfake serves franz-go's in-process Kafka cluster (kfake) on a
// loopback port, for scripts/bench.sh's kafka destination: no Kafka broker
// is packaged for Debian. It is a test double that speaks the Kafka
// protocol, not a Kafka; its figures say what hookgate's producer costs,
// not what a Kafka cluster does.
//
//	go run ./scripts/kfake -port 9092 -topic creator-events [-dir D]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9092, "the port on 127.0.0.1")
	topic := flag.String("topic", "creator-events", "a topic to create (3 partitions)")
	dir := flag.String("dir", "", "persist to this folder (empty: in memory)")
	flag.Parse()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(*port), kfake.SeedTopics(3, *topic)}
	if *dir != "" {
		opts = append(opts, kfake.DataDir(*dir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println(c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	c.Close()
}
