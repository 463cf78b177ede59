package registry

import (
	"github.com/pal-mcp/pal/providers"
	"github.com/pal-mcp/pal/providers/anthropic"
	"github.com/pal-mcp/pal/providers/gemini"
	"github.com/pal-mcp/pal/providers/openaicompat"
)

// defaultConstructors is the real implementation of every provider type.
func defaultConstructors() map[providers.Type]Constructor {
	return map[providers.Type]Constructor{
		providers.Google:     gemini.New,
		providers.OpenAI:     openaicompat.New,
		providers.Azure:      openaicompat.New,
		providers.XAI:        openaicompat.New,
		providers.DIAL:       openaicompat.New,
		providers.Custom:     openaicompat.New,
		providers.OpenRouter: openaicompat.New,
		providers.Anthropic:  anthropic.New,
	}
}
