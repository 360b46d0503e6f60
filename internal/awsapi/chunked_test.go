package awsapi_test

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
)

// The worked examples of
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
// sigv4-streaming-trailers.html: 66560 bytes of 'a' in chunks of 65536,
// 1024 and 0, signed with the documentation's example key.
const (
	docKeyID  = "AKIAIOSFODNN7EXAMPLE"
	docSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func docRig(t *testing.T) *rig {
	t.Helper()
	at := time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC)
	return newRig(t, false, func(c *awsapi.Config) {
		c.Credentials = awsapi.Credentials{AccessKeyID: docKeyID, Secret: docSecret}
		c.Now = func() time.Time { return at }
	})
}

func docBody(sigs [3]string, trailer string) string {
	a := strings.Repeat("a", 65536)
	b := strings.Repeat("a", 1024)
	s := "10000;chunk-signature=" + sigs[0] + "\r\n" + a + "\r\n" +
		"400;chunk-signature=" + sigs[1] + "\r\n" + b + "\r\n" +
		"0;chunk-signature=" + sigs[2] + "\r\n"
	if trailer == "" {
		return s + "\r\n"
	}
	return s + trailer
}

var (
	docSigs        = [3]string{"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648", "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497", "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"}
	docTrailerSigs = [3]string{"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2", "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7", "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"}
)

const docTrailer = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n"

func docRequest(t *testing.T, url, body string, trailer bool) *http.Request {
	t.Helper()
	req, err := http.NewRequest("PUT", url+"/examplebucket/chunkObject.txt", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "s3.amazonaws.com"
	req.Header.Set("X-Amz-Date", "20130524T000000Z")
	req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	if trailer {
		req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docKeyID+"/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")
	} else {
		req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+docKeyID+"/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	}
	return req
}

func TestAWSDocSignedChunks(t *testing.T) {
	rg := docRig(t)
	body := docBody(docSigs, "")
	if len(body) != 66824 {
		t.Fatalf("doc body is %d bytes, the example says 66824", len(body))
	}
	resp, text := do(t, docRequest(t, rg.srv.URL, body, false))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s (%v)", resp.StatusCode, text, rg.s3.errs)
	}
	got := rg.s3.requests()[0]
	if string(got.Body) != strings.Repeat("a", 66560) {
		t.Errorf("decoded %d bytes", len(got.Body))
	}
	if got.Header.Get("X-Amz-Storage-Class") != "REDUCED_REDUNDANCY" || got.Header.Get("X-Amz-Decoded-Content-Length") != "" {
		t.Errorf("headers %v", got.Header)
	}
}

func TestAWSDocSignedChunksTrailer(t *testing.T) {
	rg := docRig(t)
	resp, text := do(t, docRequest(t, rg.srv.URL, docBody(docTrailerSigs, docTrailer), true))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s (%v)", resp.StatusCode, text, rg.s3.errs)
	}
	got := rg.s3.requests()[0]
	if len(got.Body) != 66560 || got.Header.Get("X-Amz-Checksum-Crc32c") != "sOO8/Q==" {
		t.Errorf("decoded %d bytes, trailer %q", len(got.Body), got.Header.Get("X-Amz-Checksum-Crc32c"))
	}
}

func TestAWSChunkedTampering(t *testing.T) {
	good := docBody(docSigs, "")
	goodTrailer := docBody(docTrailerSigs, docTrailer)
	cases := []struct {
		name    string
		body    string
		trailer bool
		code    string
	}{
		{"chunk data changed", strings.Replace(good, "aaaa", "aaba", 1), false, awserr.S3SignatureDoesNotMatch},
		{"last chunk data changed", good[:66000] + "b" + good[66001:], false, awserr.S3SignatureDoesNotMatch},
		{"chunk signature changed", strings.Replace(good, "ad80c730", "ad80c731", 1), false, awserr.S3SignatureDoesNotMatch},
		{"chunks swapped signature", strings.Replace(good, docSigs[1], docSigs[0], 1), false, awserr.S3SignatureDoesNotMatch},
		{"signature missing", strings.Replace(good, ";chunk-signature="+docSigs[0], "", 1), false, awserr.S3SignatureDoesNotMatch},
		{"truncated", goodTrailer[:40000], true, awserr.S3IncompleteBody},
		{"content-length signed, body cut", good[:40000], false, awserr.S3SignatureDoesNotMatch},
		{"trailer value changed", strings.Replace(goodTrailer, "sOO8/Q==", "sOO8/R==", 1), true, awserr.S3SignatureDoesNotMatch},
		{"trailer signature dropped", strings.Replace(goodTrailer, "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n", "", 1), true, awserr.S3SignatureDoesNotMatch},
		{"undeclared trailer", strings.Replace(goodTrailer, "x-amz-checksum-crc32c", "x-amz-checksum-sha1", 1), true, awserr.S3SignatureDoesNotMatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rg := docRig(t)
			req := docRequest(t, rg.srv.URL, tc.body, tc.trailer)
			resp, _ := do(t, req)
			if e := rg.s3.lastError(t); e.Code != tc.code {
				t.Errorf("status %d code %s, want %s", resp.StatusCode, e.Code, tc.code)
			}
			if n := len(rg.s3.requests()); n != 0 {
				t.Error("tampered upload reached the service")
			}
		})
	}
}

// A body framed as STREAMING-UNSIGNED-PAYLOAD-TRAILER whose CRC32 trailer
// does not match the data is refused with BadDigest.
func TestUnsignedTrailerBadChecksum(t *testing.T) {
	rg := newRig(t, false)
	body := "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
	req := signedRequest(t, rg.srv.URL, "PUT", "/b/k", []byte(body), "s3", time.Now(), testSecret, map[string]string{
		"X-Amz-Content-Sha256":         "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"Content-Encoding":             "aws-chunked",
		"X-Amz-Decoded-Content-Length": "11",
		"X-Amz-Trailer":                "x-amz-checksum-crc32",
	})
	resp, _ := do(t, req)
	if e := rg.s3.lastError(t); resp.StatusCode != 400 || e.Code != awserr.S3BadDigest {
		t.Errorf("status %d code %s", resp.StatusCode, e.Code)
	}
	good := strings.Replace(body, "AAAAAA==", "DUoRhQ==", 1)
	req = signedRequest(t, rg.srv.URL, "PUT", "/b/k", []byte(good), "s3", time.Now(), testSecret, map[string]string{
		"X-Amz-Content-Sha256":         "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"Content-Encoding":             "aws-chunked,gzip",
		"X-Amz-Decoded-Content-Length": "11",
		"X-Amz-Trailer":                "x-amz-checksum-crc32",
	})
	resp, _ = do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("good trailer: status %d", resp.StatusCode)
	}
	got := rg.s3.requests()[0]
	if string(got.Body) != "hello world" || got.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("body %q encoding %q", got.Body, got.Header.Get("Content-Encoding"))
	}
}

func TestChecksumCRC64NVME(t *testing.T) {
	// The CRC-64/NVME check value: crc("123456789") = 0xae8b14860a799888.
	got, ok := awsapi.Checksum("x-amz-checksum-crc64nvme", []byte("123456789"))
	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, 0xae8b14860a799888))
	if !ok || got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
