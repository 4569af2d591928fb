package plugin

func cleanupBench() {}
