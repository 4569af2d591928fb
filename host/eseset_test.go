package host_test

// The tests of package host back up and verify real ESE sets, so the test
// binary registers the "ese" set format, as the esesnap CLI does. Package
// host itself does not import it (TestHostImportsNoESEFormat).
import _ "github.com/esesnap/esesnap/ese/eseset"
