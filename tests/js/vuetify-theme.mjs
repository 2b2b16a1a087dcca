// Runs the real Vuetify 3 theme plugin (public API: createVuetify, no browser needed)
// on theme definitions produced by compiler/render/theme_css.py, so that
// tests/test_theme_css.py can compare Vuetify's own output with our theme.css.
//
// stdin:  {"cases": [{"theme": <definition>}, ...],
//          "variations": {"dark": bool, "colors": {name: hex}, "lighten": n, "darken": n}}
// stdout: {"version": "3.x.y",
//          "cases": [{"css": <Vuetify's stylesheet>, "dark": bool, "colors": {...},
//                     "variables": {...}}, ...],
//          "variations": {"<name>-lighten-<n>": "#RRGGBB", ...}}
import { readFileSync } from 'node:fs'
import { createVuetify, version } from 'vuetify'

const THEME = 'pops'

function themeOf (theme, extra = {}) {
  return createVuetify({ theme: { defaultTheme: THEME, ...extra, themes: { [THEME]: theme } } }).theme
}

const request = JSON.parse(readFileSync(0, 'utf8'))

const cases = request.cases.map(({ theme }) => {
  const vuetifyTheme = themeOf(theme)
  const computed = vuetifyTheme.computedThemes.value[THEME]
  return {
    css: vuetifyTheme.styles.value,
    dark: computed.dark,
    colors: computed.colors,
    variables: computed.variables,
  }
})

// Vuetify's own lighten/darken, through its `variations` option.
const v = request.variations
const variationTheme = themeOf(
  { dark: v.dark, colors: v.colors },
  { variations: { colors: Object.keys(v.colors), lighten: v.lighten, darken: v.darken } },
)
const computedColors = variationTheme.computedThemes.value[THEME].colors
const variations = {}
for (const name of Object.keys(v.colors)) {
  for (const [kind, count] of [['lighten', v.lighten], ['darken', v.darken]]) {
    for (let step = 1; step <= count; step++) {
      const key = `${name}-${kind}-${step}`
      variations[key] = computedColors[key]
    }
  }
}

process.stdout.write(JSON.stringify({ version, cases, variations }))
