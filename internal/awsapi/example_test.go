package awsapi_test

import (
	"fmt"

	"trustgate/internal/awsapi"
)

// What `trustgate env` prints, for eval in a shell.
func ExampleCredentials_EnvLines() {
	c := awsapi.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	fmt.Print(c.EnvLines("us-east-1", "http://127.0.0.1:4566"))
	fmt.Println(c) // the secret never prints
	// Output:
	// export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
	// export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
	// export AWS_DEFAULT_REGION=us-east-1
	// export AWS_REGION=us-east-1
	// export AWS_ENDPOINT_URL=http://127.0.0.1:4566
	// export TRUSTGATE_ENDPOINT=http://127.0.0.1:4566
	// {AKIAIOSFODNN7EXAMPLE REDACTED}
}
