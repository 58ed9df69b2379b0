package ui

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

const (
	svgWidth  = 960
	svgLeft   = 70
	svgRight  = 16
	plotWidth = svgWidth - svgLeft - svgRight
)

// timelineSVG draws the ticks of [from, to] on a time axis: invoked ticks
// in the upper lane coloured by their Job's result, skipped ones in the
// lower lane (an aggregated skip as a bar over the range it covers), each
// with its reason as a tooltip, and the next planned tick as an outline.
func timelineSVG(ticks []tick, next, from, to time.Time) template.HTML {
	const height = 120
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart timeline" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="tick timeline">`, svgWidth, height)
	x := func(t time.Time) float64 {
		f := float64(t.Sub(from)) / float64(to.Sub(from))
		if f < 0 {
			f = 0
		}
		if f > 1 {
			f = 1
		}
		return svgLeft + f*plotWidth
	}
	fmt.Fprintf(&b, `<text x="4" y="34" class="lane">invoked</text><text x="4" y="74" class="lane">skipped</text>`)
	fmt.Fprintf(&b, `<line x1="%d" y1="90" x2="%d" y2="90" class="axis"/>`, svgLeft, svgLeft+plotWidth)
	for i := 0; i <= 6; i++ {
		t := from.Add(time.Duration(int64(to.Sub(from)) * int64(i) / 6))
		xx := x(t)
		label := t.UTC().Format("15:04")
		if to.Sub(from) > 36*time.Hour {
			label = t.UTC().Format("Jan 2 15:04")
		} else if to.Sub(from) <= 10*time.Minute {
			label = t.UTC().Format("15:04:05")
		}
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == 6 {
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="14" x2="%.1f" y2="94" class="grid"/><text x="%.1f" y="110" text-anchor="%s" class="tl">%s</text>`, xx, xx, xx, anchor, label)
	}
	n := 0
	for _, t := range ticks {
		if t.Time.Before(from) || t.First.After(to) {
			continue
		}
		n++
		title := html.EscapeString(t.Title())
		if t.Result == resultSkipped {
			x0, x1 := x(t.First), x(t.Time)
			w := x1 - x0
			if w < 3 {
				x0, w = x0-1.5, 3
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="58" width="%.1f" height="24" class="t-%s"><title>%s</title></rect>`, x0, w, t.Result, title)
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="18" width="4" height="28" class="t-%s"><title>%s</title></rect>`, x(t.Time)-2, t.Result, title)
	}
	if !next.IsZero() && !next.After(to) && !next.Before(from) {
		fmt.Fprintf(&b, `<rect x="%.1f" y="18" width="4" height="28" class="t-next"><title>next tick %s</title></rect>`, x(next)-2, next.UTC().Format(time.RFC3339))
	}
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="56" text-anchor="middle" class="empty">no decisions recorded in this window</text>`, svgLeft+plotWidth/2)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// bar is one bar of a chart.
type bar struct {
	Label string
	Value time.Duration
	Class string
	Title string
}

// barChartSVG draws durations as vertical bars, oldest left, with the
// largest value labelled on the y axis.
func barChartSVG(label string, bars []bar) template.HTML {
	const height, top, bottom = 170, 12, 140
	const width = 480
	const plotWidth = width - svgLeft - svgRight
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`, width, height, html.EscapeString(label))
	if len(bars) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="80" text-anchor="middle" class="empty">no runs to chart yet</text></svg>`, width/2)
		return template.HTML(b.String())
	}
	var max time.Duration
	for _, v := range bars {
		if v.Value > max {
			max = v.Value
		}
	}
	if max <= 0 {
		max = time.Second
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, svgLeft, bottom, svgLeft+plotWidth, bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="grid"/><text x="%d" y="%d" text-anchor="end" class="tl">%s</text>`,
		svgLeft, top, svgLeft+plotWidth, top, svgLeft-6, top+4, humanDuration(max))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="tl">0</text>`, svgLeft-6, bottom+4)
	slot := float64(plotWidth) / float64(len(bars))
	w := slot * 0.7
	if w > 40 {
		w = 40
	}
	for i, v := range bars {
		h := float64(bottom-top) * float64(v.Value) / float64(max)
		if h < 1 && v.Value > 0 {
			h = 1
		}
		xx := svgLeft + slot*float64(i) + (slot-w)/2
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="t-%s"><title>%s: %s</title></rect>`,
			xx, float64(bottom)-h, w, h, v.Class, html.EscapeString(v.Title), humanDuration(v.Value))
		if len(bars) <= 8 || (len(bars) <= 16 && i%2 == 0) {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" class="tl">%s</text>`, xx+w/2, bottom+16, html.EscapeString(v.Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
