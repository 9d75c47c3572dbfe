package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/seed331fb32b/chorus/node/app"
)

// Cookies and headers of Mattermost's session handling (model/session.go,
// model/client4.go).
const (
	cookieToken  = "MMAUTHTOKEN"
	cookieUserID = "MMUSERID"
	cookieCSRF   = "MMCSRF"

	headerToken         = "Token"
	headerCSRF          = "X-CSRF-Token"
	headerRequestedWith = "X-Requested-With"
	requestedWithXHR    = "XMLHttpRequest"
)

// sessionHandler serves a request with the session it came with; s is nil
// for a route whose session is optional and a request without one.
type sessionHandler func(w http.ResponseWriter, r *http.Request, s *app.Session)

// withSession is Mattermost's APISessionRequired: a request without a
// valid session gets 401 api.context.session_expired.app_error, and its
// session cookies are cleared.
func (h *handler) withSession(next sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s, ok := h.authenticate(w, r, true); ok {
			next(w, r, s)
		}
	}
}

// withOptionalSession is Mattermost's APIHandler: the request may come
// without a session, and an invalid token is ignored; a valid session
// still needs its CSRF token when it comes in a cookie.
func (h *handler) withOptionalSession(next sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s, ok := h.authenticate(w, r, false); ok {
			next(w, r, s)
		}
	}
}

// authenticate finds the request's session as Mattermost's web.Handler
// does, answering the request itself when it must fail (ok false).
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request, required bool) (s *app.Session, ok bool) {
	token, fromCookie := tokenFromRequest(r)
	if token == "" {
		if required {
			writeError(w, r, sessionExpired("no session token in the request"))
			return nil, false
		}
		return nil, true
	}
	s, err := h.app.SessionByToken(r.Context(), token)
	if err != nil {
		if app.KindOf(err) == app.KindInternal || required {
			if required {
				clearSessionCookies(w, r)
			}
			h.writeError(w, r, err)
			return nil, false
		}
		return nil, true
	}
	if fromCookie && r.Method != http.MethodGet && !csrfPassed(r, s) {
		// Mattermost's checkCSRFToken: a cookie travels with any request
		// a browser makes, so a write must prove it came from our page.
		writeError(w, r, sessionExpired("Appears to be a CSRF attempt"))
		return nil, false
	}
	return s, true
}

// csrfPassed reports whether a cookie-authenticated request proves it came
// from Mattermost's own page: the session's CSRF token in X-CSRF-Token, or
// the legacy X-Requested-With: XMLHttpRequest (which Mattermost still
// accepts unless ExperimentalStrictCSRFEnforcement is on; browsers do not
// let other sites set it without a CORS preflight).
func csrfPassed(r *http.Request, s *app.Session) bool {
	if csrf := r.Header.Get(headerCSRF); csrf != "" && csrf == s.CSRF() {
		return true
	}
	return r.Header.Get(headerRequestedWith) == requestedWithXHR
}

// tokenFromRequest returns the session token as Mattermost's
// ParseAuthTokenFromRequest finds it: the MMAUTHTOKEN cookie, then
// "Authorization: Bearer <t>" (any case; Client4 sends "BEARER"), then
// "Authorization: Token <t>". fromCookie says where it was. Query-string
// tokens are for OAuth sessions, which Chorus does not have.
func tokenFromRequest(r *http.Request) (token string, fromCookie bool) {
	if c, err := r.Cookie(cookieToken); err == nil && c.Value != "" {
		return c.Value, true
	}
	a := r.Header.Get("Authorization")
	if len(a) > 6 && strings.EqualFold(a[:6], "bearer") {
		return strings.TrimSpace(a[7:]), false
	}
	if len(a) > 5 && strings.EqualFold(a[:5], "token") {
		return strings.TrimSpace(a[6:]), false
	}
	return "", false
}

// sessionExpired is the 401 of a request without a valid session.
func sessionExpired(detail string) *AppError {
	return &AppError{ID: "api.context.session_expired.app_error",
		Message: "Invalid or expired session, please login again.", DetailedError: detail,
		StatusCode: http.StatusUnauthorized}
}

// setSessionCookies sets Mattermost's three session cookies
// (AttachSessionCookies): the token (HttpOnly), the user id and the CSRF
// token (both readable by the page), for the session's lifetime; Secure
// when the request came over HTTPS, directly or through the front door.
func setSessionCookies(w http.ResponseWriter, r *http.Request, s *app.Session, lifetime time.Duration) {
	maxAge := int(lifetime.Seconds())
	expires := time.Now().Add(lifetime)
	secure := isHTTPS(r)
	for _, c := range []*http.Cookie{
		{Name: cookieToken, Value: s.Token, HttpOnly: true},
		{Name: cookieUserID, Value: s.UserID},
		{Name: cookieCSRF, Value: s.CSRF()},
	} {
		c.Path, c.MaxAge, c.Expires, c.Secure = "/", maxAge, expires, secure
		http.SetCookie(w, c)
	}
}

// clearSessionCookies expires the three session cookies (Mattermost's
// RemoveSessionCookie).
func clearSessionCookies(w http.ResponseWriter, r *http.Request) {
	secure := isHTTPS(r)
	for _, name := range []string{cookieToken, cookieUserID, cookieCSRF} {
		http.SetCookie(w, &http.Cookie{Name: name, Path: "/", MaxAge: -1, HttpOnly: name == cookieToken, Secure: secure})
	}
}

// isHTTPS reports whether the client used HTTPS (Mattermost's GetProtocol).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}
