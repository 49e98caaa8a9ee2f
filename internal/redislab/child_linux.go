package redislab

import "syscall"

// childAttr makes redis-server die with the process that started it, so a
// killed test or harness leaves no Redis behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
