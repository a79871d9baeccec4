# Configuration front ends (config-frontend): the generated configuration reference.
# bench-config-parse is declared in mk/config-lexer.mk; it runs bench/config-parse/run.ts,
# which needs dist/lbctl (`make build`).
.PHONY: docs

docs: docs/config.md

docs/config.md: $(shell find src/config -name '*.ts' 2>/dev/null)
	$(BUN) src/config/docs.ts > docs/config.md.tmp && mv docs/config.md.tmp docs/config.md
