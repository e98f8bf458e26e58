#!/bin/sh
VERSION=3.1
