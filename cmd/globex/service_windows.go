//go:build windows

package main

import (
	"context"
	"time"

	"golang.org/x/sys/windows/svc"
)

// serviceContext returns a context that is cancelled when the Windows
// service manager asks globex to stop or the machine shuts down, and
// whether globex runs as a service at all. Installed for example with:
//
//	sc.exe create globex binPath= "C:\globex\globex.exe run -c C:\globex\globex.yaml" start= auto
func serviceContext(parent context.Context) (context.Context, bool, func()) {
	isSvc, err := svc.IsWindowsService()
	if err != nil || !isSvc {
		return parent, false, func() {}
	}
	ctx, cancel := context.WithCancel(parent)
	h := &handler{cancel: cancel, started: make(chan struct{}), finished: make(chan struct{})}
	stopped := make(chan struct{})
	go func() {
		_ = svc.Run("globex", h)
		cancel()
		close(stopped)
	}()
	<-h.started
	// The returned func is called when globex has finished its work: only
	// then is the service reported as stopped.
	return ctx, true, func() {
		cancel()
		close(h.finished)
		<-stopped
	}
}

type handler struct {
	cancel   context.CancelFunc
	started  chan struct{}
	finished chan struct{}
}

// Execute reports running, and turns Stop and Shutdown into a clean stop:
// the file in hand is finished first.
func (h *handler) Execute(args []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	close(h.started)
	for c := range req {
		switch c.Cmd {
		case svc.Interrogate:
			status <- c.CurrentStatus
		case svc.Stop, svc.Shutdown:
			status <- svc.Status{State: svc.StopPending, WaitHint: 60000}
			h.cancel()
			select {
			case <-h.finished:
			case <-time.After(55 * time.Second):
			}
			return false, 0
		}
	}
	return false, 0
}
