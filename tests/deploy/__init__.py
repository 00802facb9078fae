"""Tests of the deployment files: the image, compose.yml and the load balancer."""
