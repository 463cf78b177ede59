package providers

import (
	"bytes"
	"fmt"
	"strings"
)

// Image limits (PAL's tool-level checks).
const (
	// MaxImages is the most images one request may carry.
	MaxImages = 5
	// CustomImageLimitMB caps max_image_size_mb for the custom (local) provider, in MB.
	CustomImageLimitMB = 40.0
	// DefaultImageLimitMB is the total used for a model that supports images but whose entry
	// gives no max_image_size_mb, in MB (PAL's per-image default).
	DefaultImageLimitMB = 20.0
)

const bytesPerMB = 1024 * 1024

// ImageMIMETypes are the accepted image types.
var ImageMIMETypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// SniffImage names the image type of data from its leading bytes (PNG, JPEG, GIF87a/89a, or a
// RIFF container of type WEBP), or "" when the bytes are none of them.
func SniffImage(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "image/gif"
	case len(data) >= 12 && bytes.Equal(data[0:4], []byte("RIFF")) && bytes.Equal(data[8:12], []byte("WEBP")):
		return "image/webp"
	}
	return ""
}

// ImageLimitMB is the total image size, in MB, a request to this model may carry: the entry's
// max_image_size_mb (DefaultImageLimitMB when unset), capped at CustomImageLimitMB for the custom
// provider. Zero when the model takes no images.
func ImageLimitMB(caps *Capabilities) float64 {
	if caps == nil || !caps.SupportsImages {
		return 0
	}
	limit := caps.MaxImageSizeMB
	if limit <= 0 {
		limit = DefaultImageLimitMB
	}
	if caps.Provider == Custom && limit > CustomImageLimitMB {
		limit = CustomImageLimitMB
	}
	return limit
}

// CheckImages refuses images the model cannot take: any image for a model without
// supports_images, more than MaxImages, a total over ImageLimitMB, a MIME type outside
// ImageMIMETypes, or bytes that are not what the MIME type claims. Errors wrap
// ErrInvalidRequest. No images is always fine.
func CheckImages(caps *Capabilities, imgs []Image) error {
	if len(imgs) == 0 {
		return nil
	}
	name := "(unknown)"
	if caps != nil {
		name = caps.ModelName
	}
	if caps == nil || !caps.SupportsImages {
		return fmt.Errorf("%w: model '%s' does not accept images; choose a model with image support", ErrInvalidRequest, name)
	}
	if len(imgs) > MaxImages {
		return fmt.Errorf("%w: %d images given, at most %d are allowed per request", ErrInvalidRequest, len(imgs), MaxImages)
	}
	total := 0
	for i, img := range imgs {
		mime := strings.ToLower(strings.TrimSpace(img.MIMEType))
		if !isImageMIME(mime) {
			return fmt.Errorf("%w: image %d has type %q; accepted types are %s", ErrInvalidRequest, i+1, img.MIMEType, strings.Join(ImageMIMETypes, ", "))
		}
		if len(img.Data) == 0 {
			return fmt.Errorf("%w: image %d is empty", ErrInvalidRequest, i+1)
		}
		if got := SniffImage(img.Data); got != mime {
			if got == "" {
				return fmt.Errorf("%w: image %d claims %s but its bytes are not an image of an accepted type", ErrInvalidRequest, i+1, mime)
			}
			return fmt.Errorf("%w: image %d claims %s but its bytes are %s", ErrInvalidRequest, i+1, mime, got)
		}
		total += len(img.Data)
	}
	limit := ImageLimitMB(caps)
	if mb := float64(total) / bytesPerMB; mb > limit {
		return fmt.Errorf("%w: images total %.2f MB, over the %.1f MB limit of model '%s'", ErrInvalidRequest, mb, limit, name)
	}
	return nil
}

func isImageMIME(m string) bool {
	for _, t := range ImageMIMETypes {
		if m == t {
			return true
		}
	}
	return false
}
