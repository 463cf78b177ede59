package hostfns

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/pal-mcp/pal/policy"
	"github.com/pal-mcp/pal/policy/secrets"
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/runtime/abi"
)

// Models is what the model ops need of the model registry. Errors wrap the providers
// sentinels (ErrNotConfigured, ErrRestricted, ErrUpstream, ErrBlocked, ErrInvalidRequest).
type Models interface {
	// Resolve maps a name ("auto" or "", an alias, a canonical name, "name:option") to a
	// configured, allowed model, using category for auto selection.
	Resolve(name string, category providers.Category) (ModelInfo, error)
	// Generate resolves name as Resolve does and runs req against it; req.Model is ignored and
	// req.Temperature is corrected to what the model accepts.
	Generate(ctx context.Context, name string, category providers.Category, req providers.Request) (*providers.Response, ModelInfo, error)
	// List describes every provider and model for model.list; it holds no secret.
	List() abi.ModelListResult
	// Summary names the configured providers and counts the models they allow.
	Summary() (providers []string, models int)
}

// ModelInfo is a resolved model as model.resolve reports it.
type ModelInfo = abi.ModelResolveResult

func (c *Call) categoryOr(asked string) (providers.Category, error) {
	if asked == "" {
		asked = c.category
	}
	switch providers.Category(asked) {
	case providers.CategoryFast, providers.CategoryBalanced, providers.CategoryExtended:
		return providers.Category(asked), nil
	case "":
		return providers.CategoryBalanced, nil
	}
	return "", fail(abi.CodeInvalid, "unknown category %q (want fast, balanced or extended)", asked)
}

func modelResolve(_ context.Context, c *Call, req abi.ModelResolveRequest, _ []byte) (outcome, error) {
	cat, err := c.categoryOr(req.Category)
	if err != nil {
		return outcome{}, err
	}
	if c.env.Models == nil {
		return outcome{}, fail(abi.CodeUnavailable, "no model provider is configured")
	}
	info, err := c.env.Models.Resolve(req.Model, cat)
	if err != nil {
		return outcome{path: req.Model}, c.modelError(err)
	}
	return outcome{result: info, path: info.Provider + "/" + info.Model}, nil
}

// maxImageBytes caps one inline (data URL) image (PAL's 20 MB per image), before the model's
// own total cap (providers.CheckImages) applies; image files are capped by
// paths.max_image_bytes.
const maxImageBytes = 20 << 20

var thinkingModes = map[string]bool{"": true, "minimal": true, "low": true, "medium": true, "high": true, "max": true}

func modelGenerate(ctx context.Context, c *Call, req abi.ModelGenerateRequest, body []byte) (outcome, error) {
	cat, err := c.categoryOr(req.Category)
	if err != nil {
		return outcome{}, err
	}
	if !thinkingModes[req.ThinkingMode] {
		return outcome{}, fail(abi.CodeInvalid, "unknown thinking_mode %q (want minimal, low, medium, high or max)", req.ThinkingMode)
	}
	if len(body) == 0 {
		return outcome{}, fail(abi.CodeInvalid, "model.generate needs the prompt as the message body")
	}
	if c.env.Models == nil {
		return outcome{}, fail(abi.CodeUnavailable, "no model provider is configured")
	}
	if len(req.Images) > providers.MaxImages {
		return outcome{}, fail(abi.CodeTooLarge, "%d images given; at most %d per request", len(req.Images), providers.MaxImages)
	}
	var redacted secrets.Report
	images := make([]providers.Image, 0, len(req.Images))
	for _, ref := range req.Images {
		img, err := c.loadImage(ref)
		if err != nil {
			return outcome{path: imageLabel(ref), redacted: redacted}, err
		}
		if c.env.Secrets != nil {
			var rep secrets.Report
			if img.Data, rep, err = c.env.Secrets.RedactImage(img.Data); err != nil {
				redacted.Add(rep)
				return outcome{path: imageLabel(ref), redacted: redacted}, fail(abi.CodeDenied, "image %q: %v", imageLabel(ref), err)
			}
			redacted.Add(rep)
		}
		images = append(images, img)
	}
	system, prompt := req.System, string(body)
	if c.env.Secrets != nil {
		var rep secrets.Report
		system, rep = c.env.Secrets.Redact(system)
		redacted.Add(rep)
		prompt, rep = c.env.Secrets.Redact(prompt)
		redacted.Add(rep)
	}
	if err := c.budget.spend(budgetProviderCalls, 1); err != nil {
		return outcome{path: req.Model}, err
	}
	what := "the model"
	if req.Model != "" && req.Model != "auto" {
		what = req.Model
	}
	stopHeartbeat := c.heartbeat(what)
	resp, info, err := c.env.Models.Generate(ctx, req.Model, cat, providers.Request{
		SystemPrompt: system,
		Prompt:       prompt,
		Images:       images,
		Temperature:  req.Temperature,
		ThinkingMode: req.ThinkingMode,
	})
	stopHeartbeat()
	if err != nil {
		return outcome{path: req.Model, bytes: int64(len(body)), redacted: redacted}, c.modelError(err)
	}
	model := resp.Model
	if model == "" {
		model = info.Model
	}
	return outcome{
		result:   abi.ModelGenerateResult{Content: resp.Content, Model: model, Provider: info.Provider, FinishReason: resp.FinishReason, Usage: abi.Usage(resp.Usage)},
		path:     info.Provider + "/" + info.Model,
		bytes:    int64(len(body)),
		redacted: redacted,
	}, nil
}

// loadImage reads an image named by an absolute path or given inline as a data URL. A file
// goes through the same path rules as fs.read (roots, deny globs, symlinks, hard links), is
// capped at paths.max_image_bytes, and gets its own audit record (op "model.image"), allowed or
// denied, as an fs.read does.
func (c *Call) loadImage(ref string) (providers.Image, error) {
	if strings.HasPrefix(ref, "data:") {
		return decodeDataURL(ref)
	}
	if c.paths == nil {
		return providers.Image{}, fail(abi.CodeDenied, "no file access is configured")
	}
	img, res, err := c.readImage(ref)
	rec := policy.Record{Op: opModelImage, Decision: "allow", Root: res.Root, Path: res.Rel, Bytes: int64(len(img.Data))}
	if err != nil {
		var oe *opError
		errors.As(err, &oe)
		rec.Decision, rec.Reason, rec.Bytes = decision(oe.code), oe.msg, 0
		if rec.Path == "" {
			rec.Path = imageLabel(ref)
		}
	}
	c.audit(rec)
	return img, err
}

// opModelImage is the audit op of an image file read for model.generate.
const opModelImage = "model.image"

func (c *Call) readImage(ref string) (providers.Image, policy.Resolved, error) {
	res, err := c.paths.Check(ref)
	if err != nil {
		return providers.Image{}, res, pathError(err)
	}
	f, err := res.Open()
	if err != nil {
		return providers.Image{}, res, pathError(err)
	}
	defer f.Close()
	limit := c.paths.Caps().MaxImageBytes
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return providers.Image{}, res, fail(abi.CodeInvalid, "image %q could not be read", ref)
	}
	if int64(len(data)) > limit {
		return providers.Image{}, res, fail(abi.CodeTooLarge, "image %q is over the %d-byte cap (paths.max_image_bytes)", ref, limit)
	}
	if err := c.spendRead(int64(len(data))); err != nil {
		return providers.Image{}, res, err
	}
	return providers.Image{MIMEType: providers.SniffImage(data), Data: data}, res, nil
}

func decodeDataURL(ref string) (providers.Image, error) {
	meta, payload, ok := strings.Cut(strings.TrimPrefix(ref, "data:"), ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return providers.Image{}, fail(abi.CodeInvalid, "image data URL must be data:image/<type>;base64,<data>")
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > maxImageBytes+3 {
		return providers.Image{}, fail(abi.CodeTooLarge, "inline image is over %d MiB", maxImageBytes>>20)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return providers.Image{}, fail(abi.CodeInvalid, "inline image is not valid base64")
	}
	mime := strings.TrimSuffix(meta, ";base64")
	if got := providers.SniffImage(data); got != mime {
		if got == "" {
			got = "not a PNG, JPEG, GIF or WebP image"
		}
		return providers.Image{}, fail(abi.CodeInvalid, "inline image says %s but its bytes are %s", mime, got)
	}
	return providers.Image{MIMEType: mime, Data: data}, nil
}

func imageLabel(ref string) string {
	if strings.HasPrefix(ref, "data:") {
		return "data URL"
	}
	return ref
}

// modelError maps a registry or provider error to its ABI code. The message is redacted of
// every configured secret as a last line of defence.
func (c *Call) modelError(err error) error {
	var code abi.Code
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code = abi.CodeCancelled
	case errors.Is(err, providers.ErrNotConfigured), errors.Is(err, providers.ErrRestricted):
		code = abi.CodeUnavailable
	case errors.Is(err, providers.ErrInvalidRequest):
		code = abi.CodeInvalid
	case errors.Is(err, providers.ErrUpstream), errors.Is(err, providers.ErrBlocked):
		code = abi.CodeUpstream
	default:
		return fmt.Errorf("model op: %w", err)
	}
	msg := err.Error()
	if c.env.Redact != nil {
		msg = c.env.Redact.String(msg)
	}
	return &opError{code: code, msg: msg}
}

func modelList(_ context.Context, c *Call, _ abi.ModelListRequest, _ []byte) (outcome, error) {
	if c.env.Models == nil {
		return outcome{result: abi.ModelListResult{Providers: []abi.ProviderModels{}}}, nil
	}
	return outcome{result: c.env.Models.List()}, nil
}
